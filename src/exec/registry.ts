/**
 * The studies a command knows, handed down from the command line: the runner, the pool and the
 * worker processes never import the suite's registry themselves, so a test runs its own toy
 * studies (in this process and in workers) by handing over a registry of its own.
 */
import type { AnyStudy } from '../study.js';

export interface StudyRegistry {
  studies: AnyStudy[];
  /**
   * The URL of a module exporting these studies as `STUDIES` (experiments/index.ts for the
   * suite): a worker process imports it to find a job's study by name.
   */
  module: string;
}

export function findStudy(registry: StudyRegistry, name: string): AnyStudy | undefined {
  return registry.studies.find((s) => s.name === name);
}

/** What a worker process imports: the studies of the registry module at `url`. */
export async function importRegistry(url: string): Promise<StudyRegistry> {
  const mod = (await import(url)) as { STUDIES?: AnyStudy[] };
  if (!Array.isArray(mod.STUDIES)) throw new Error(`${url} exports no STUDIES array`);
  return { studies: mod.STUDIES, module: url };
}
