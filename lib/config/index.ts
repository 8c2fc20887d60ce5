// Public entry of lib/config: compose the training config the way Hydra does for the official
// pretrain.py, resolve interpolations, validate it against the schema, and print it back.

import { ComposeOptions, composeTree } from './compose';
import { resolveConfig } from './interpolate';
import { schemaKeysAt, validatePretrainConfig } from './schema';
import { ConfigDict } from './tree';
import { PretrainConfig } from './types';
import { configToYaml, parseConfigText } from './yaml-io';

export { ConfigError, ConfigErrorCode } from './errors';
export { parseOverrides, parseOverride, parseOverrideValue, Override, OverrideKind, OverrideValue } from './overrides';
export { configToYaml } from './yaml-io';
export { composeTree, ComposeOptions, ComposedTree, packageConfigPath, DEFAULT_CONFIG_NAME } from './compose';
export { resolveConfig } from './interpolate';
export { validatePretrainConfig, registerEvaluator, pretrainFields, ARCH_FIELDS } from './schema';
export { parseTrainArgv, TrainArgv, TrainFlags, LauncherFlags } from './argv';
export { renderConfigDocs } from './docs';
export * from './types';

export interface ComposeConfigOptions extends ComposeOptions {
  overrides: readonly string[];
  /** Environment for `${oc.env:...}`; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** Compose, resolve and validate: the typed config a training run uses. */
export function composeConfig(options: ComposeConfigOptions): PretrainConfig {
  const { config } = composeTree({ schemaKeys: schemaKeysAt, ...options });
  return validatePretrainConfig(resolveConfig(config, options.env));
}

/**
 * What `trm-train --cfg <part>` prints: the composed job config as YAML (`part: 'job'`, the
 * default), the `hydra` node alone (`'hydra'`), or both (`'all'`). Interpolations are kept as
 * written (like Hydra) unless `resolve` is set (`--resolve`). The job config is validated first,
 * so a bad override fails here rather than printing a config that cannot run.
 */
export function composeConfigYaml(
  options: ComposeConfigOptions & { resolve?: boolean; part?: 'job' | 'hydra' | 'all' },
): string {
  const { config, hydra } = composeTree({ schemaKeys: schemaKeysAt, ...options });
  const resolved = resolveConfig(config, options.env);
  validatePretrainConfig(resolved);
  const job = options.resolve ? resolved : config;
  const part = options.part ?? 'job';
  if (part === 'hydra') return configToYaml({ hydra });
  if (part === 'all') return configToYaml({ ...job, hydra });
  return configToYaml(job);
}

/**
 * Read a config printed by `--cfg job` or saved as `all_config.yaml` back into a validated
 * PretrainConfig (interpolations resolved, defaults filled).
 */
export function parseConfigYaml(text: string, source = '<yaml>', env?: NodeJS.ProcessEnv): PretrainConfig {
  const loaded = parseConfigText(text, source);
  const tree: ConfigDict = loaded.body;
  return validatePretrainConfig(resolveConfig(tree, env));
}
