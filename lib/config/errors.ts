// The one error type thrown by lib/config: every failure to load, compose, override,
// interpolate or validate a training config surfaces as a ConfigError with a stable `code`.

/** What went wrong, stable enough for callers and tests to branch on. */
export type ConfigErrorCode =
  | 'override_syntax'   // an override string does not parse
  | 'override'          // a well-formed override cannot be applied (missing key, key exists, ...)
  | 'composition'       // the defaults list cannot be composed (unknown group option, duplicate _self_, ...)
  | 'not_found'         // a config file or directory does not exist
  | 'yaml'              // a config file is not valid YAML or not a mapping
  | 'interpolation'     // ${...} cannot be resolved
  | 'unknown_key'       // a key the schema does not know
  | 'type'              // a value of the wrong type or out of range
  | 'missing'           // a required key has no value
  | 'invalid'           // values that are fine alone but not together (eval_interval vs epochs)
  | 'argv';             // a command-line flag is unknown or lacks its value

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code: ConfigErrorCode;
  /** Dotted path of the offending key, when there is one (e.g. `arch.hidden_size`). */
  readonly key: string | undefined;

  constructor(code: ConfigErrorCode, message: string, key?: string) {
    super(message);
    this.code = code;
    this.key = key;
  }
}
