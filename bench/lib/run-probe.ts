/**
 * Runs a probe (a child process of one benchmark): its result as one JSON line on stdout and
 * exit 0, or the error on stderr and exit 1 — what the parent reads.
 */
export function runProbe(main: () => Promise<unknown>): void {
  main().then(
    (r) => {
      process.stdout.write(`${JSON.stringify(r)}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
      process.exit(1);
    },
  );
}
