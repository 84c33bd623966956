import { RelupError } from '../errors.ts';
import { BUILTIN_INSTRUCTIONS } from './builtins.ts';
import type { Instruction, InstructionLookup } from './instruction.ts';
import type { Modification } from './modification.ts';
import { standard } from './modifications/standard.ts';

/** The instructions and modifications a compile may use; users add their own. */
export interface Registry extends InstructionLookup {
  /** Adds an instruction; its name must be new and snake_case. */
  instruction(def: Instruction): Registry;
  /** Adds a modification that relup files can name in `options.modifications`. */
  modification(name: string, fn: Modification): Registry;
  getModification(name: string): Modification | undefined;
  modificationNames(): string[];
}

const SNAKE_CASE = /^[a-z][a-z0-9_]*$/;
const EFFECTS: readonly Instruction['effects'][] = ['none', 'prepare', 'marker', 'node'];
const PAUSES: readonly (Instruction['pause'] | undefined)[] = [undefined, 'starts', 'ends'];

/** A registry holding the built-in instructions and the `standard` modification. */
export function createRegistry(): Registry {
  const instructions = new Map<string, Instruction>();
  const modifications = new Map<string, Modification>();
  const registry: Registry = {
    instruction(def) {
      const problems = [
        ...(SNAKE_CASE.test(def.name) ? [] : ['name must be snake_case']),
        ...(EFFECTS.includes(def.effects) ? [] : [`effects must be one of ${EFFECTS.join(', ')}`]),
        ...(PAUSES.includes(def.pause) ? [] : ['pause must be starts or ends when given']),
        ...(typeof def.validate === 'function' ? [] : ['validate must be a function']),
        ...(typeof def.run === 'function' ? [] : ['run must be a function']),
        ...(instructions.has(def.name) ? ['an instruction of that name is already registered'] : []),
      ];
      if (problems.length > 0)
        throw new RelupError('BAD_INSTRUCTION', `invalid instruction ${def.name}: ${problems.join('; ')}`, {
          problems,
        });
      instructions.set(def.name, def);
      return registry;
    },
    modification(name, fn) {
      if (modifications.has(name))
        throw new RelupError('DUPLICATE_NAME', `a modification named ${name} is already registered`, {
          name,
        });
      modifications.set(name, fn);
      return registry;
    },
    getInstruction: (name) => instructions.get(name),
    getModification: (name) => modifications.get(name),
    instructionNames: () => [...instructions.keys()],
    modificationNames: () => [...modifications.keys()],
  };
  for (const def of BUILTIN_INSTRUCTIONS) registry.instruction(def);
  return registry.modification('standard', standard);
}
