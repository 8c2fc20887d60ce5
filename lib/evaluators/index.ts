// Evaluators by name (`arc@ARC`, `exact@ExactAccuracy`), as the official config lists them.
export { ARC } from './arc';
export { ExactAccuracy } from './exact';
export { createEvaluator, registerEvaluator, evaluatorNames } from './registry';
export type { EvaluatorContext } from './registry';
export type { Evaluator } from './types';
