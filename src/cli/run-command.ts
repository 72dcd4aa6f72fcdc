/** How every command-line tool ends: its exit code, or a configuration problem in one line, or the error. */
import { ConfigError } from '../config.js';

export function runCommand(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof ConfigError ? error.message : error);
      process.exit(1);
    },
  );
}
