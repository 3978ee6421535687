/** A string value written as `"${NAME}"`: the host reads it from its environment at start. */
export class EnvReference {
  constructor(readonly variable: string) {}
}

/** A value of the printed host.toml: tables print inline. */
export type TomlValue = string | number | boolean | EnvReference | { readonly [key: string]: TomlValue };
