export async function run(_args: string[]): Promise<number> {
  process.stderr.write('facepay start: not built yet\n');
  return 1;
}
