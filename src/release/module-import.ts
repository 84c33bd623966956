/** Imports a module by its file URL (a release's service module, a relup's apply script). */
export type ModuleImporter = (url: string) => Promise<unknown>;

let importer: ModuleImporter = (url) => import(url);

/**
 * How this process imports release code. The default is the runtime's own `import()`, which
 * loads TypeScript when the runtime itself runs through a TypeScript loader; the compiled
 * runtime (bin/, dist/) sets an importer that compiles TypeScript release modules only.
 */
export function setModuleImporter(next: ModuleImporter): void {
  importer = next;
}

/** Imports release code through the process's importer (see {@link setModuleImporter}). */
export function importModule(url: string): Promise<unknown> {
  return importer(url);
}
