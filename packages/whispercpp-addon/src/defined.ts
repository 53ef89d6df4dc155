/**
 * `options` without the fields set to `undefined`: spread over defaults, an option passed as
 * `undefined` then takes its default, as a missing one does.
 */
export function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>
}
