/**
 * For crash.test.ts only: starts deleting the given shopper's account on the given database and,
 * once the memberships have been ended (committed) but before the step is recorded as done, says
 * so and waits, so that the test can kill this process with SIGKILL at the worst moment.
 *   node --import tsx crash-child.ts SHOPPER PASSWORD (sqlite FILE | postgres URL SCHEMA)
 */
import { createPlatform } from '../composition.ts';
import { loadConfig } from '../config/index.ts';
import { AttemptRepo } from '../facepay/index.ts';
import { rightsPorts } from '../rights-ports.ts';
import { PostgresDb, SqliteDb, type Db } from '../storage/index.ts';
import { createRightsService, RightsRepo } from './index.ts';

const [shopperId, password, dialect, a, b] = process.argv.slice(2);
let db: Db;
if (dialect === 'sqlite') db = new SqliteDb(a!);
else {
  const p = new PostgresDb({ url: a!, schema: b! });
  await p.init();
  db = p;
}
const p = await createPlatform(loadConfig({ FACEPAY_LOG_LEVEL: 'silent', FACEPAY_FACE: '0' }), { db });
const ports = rightsPorts({
  ...p.services,
  funding: p.services.fundingService!,
  faces: { enrol: async () => undefined, updateProfile: async () => undefined, remove: async () => undefined, searchable: async () => true },
  attempts: new AttemptRepo(db),
  mail: p.mail,
} as never);
const rights = createRightsService({
  repo: new RightsRepo(db),
  ports: {
    ...ports,
    members: {
      ...ports.members,
      forget: async (id) => {
        await ports.members.forget(id);
        process.stdout.write('FORGOTTEN\n');
        await new Promise(() => undefined);
      },
    },
  },
  clock: p.clock,
  ids: p.ids,
});
await rights.requestDeletion(shopperId!, password!);
process.stdout.write('DONE\n');
