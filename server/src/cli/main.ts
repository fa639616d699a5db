/**
 * `facepay <group> <command> ...`: each group lives in its own file and is loaded only when
 * asked for, so that `facepay merchant create` does not load the face models.
 */
type Group = { run(args: string[]): Promise<number> };

const groups: Record<string, { about: string; load: () => Promise<Group> }> = {
  start: { about: 'start the whole platform (API, terminal, console, portal)', load: () => import('./start.ts') },
  face: { about: 'inspect, compare and embed face images; judge a folder of frames for liveness', load: () => import('./face.ts') },
  merchant: { about: 'create merchants, API keys and console logins', load: () => import('./merchant.ts') },
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
