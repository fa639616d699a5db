/**
 * `facepay <group> <command> ...`: each group lives in its own file and is loaded only when
 * asked for, so that `facepay merchant create` does not load the face models.
 */
type Group = { run(args: string[]): Promise<number> };

const groups: Record<string, { about: string; load: () => Promise<Group> }> = {
  start: { about: 'start the whole platform (API, terminal, console, portal)', load: () => import('./start.ts') },
  face: { about: 'inspect, compare and embed face images; judge a folder of frames for liveness', load: () => import('./face.ts') },
  tls: { about: 'make a local CA and server certificate for HTTPS on the shop network', load: () => import('./tls.ts') },
  backup: { about: 'back up the embedded database, gallery snapshots and TLS files (never the master key)', load: () => import('./backup.ts') },
  restore: { about: 'restore a backup into the data directory and audit it', load: () => import('./restore.ts') },
  merchant: { about: 'create merchants, API keys and console logins', load: () => import('./merchant.ts') },
  operator: { about: 'operator staff logins (service desk, admin) and the funding reconciliation', load: () => import('./operator.ts') },
  disputes: { about: "list every merchant's disputes (the operator's view)", load: () => import('./disputes.ts') },
  settle: { about: 'close settlement days, decide withdrawals, run payouts (pain.001)', load: () => import('./settle.ts') },
};

function usage(): string {
  const lines = Object.entries(groups).map(([name, g]) => `  facepay ${name.padEnd(10)} ${g.about}`);
  return `usage:\n${lines.join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const group = groups[name];
  if (group === undefined) {
    process.stderr.write(`facepay: unknown command "${name}"\n${usage()}`);
    return 2;
  }
  return (await group.load()).run(rest);
}
