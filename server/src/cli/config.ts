import { ConfigError, loadConfig, type Config } from '../config/index.ts';

/** The configuration from the environment, or undefined after saying on stderr what is wrong with it. */
export function configOrSay(): Config | undefined {
  try {
    return loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`facepay: ${e.message}\n`);
      return undefined;
    }
    throw e;
  }
}
