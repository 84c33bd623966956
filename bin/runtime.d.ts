/** True when the bins run the compiled runtime (a finished build in dist/, not older than src/). */
export function useDist(): boolean;
/** Runs a command's `main()` (`relup`, `relupctl`) on the compiled runtime or the sources. */
export function run(name: string): Promise<void>;
