// Names that can end up on an nlserver command line (`nlserver restart mta@<instance>`) or in a
// metric label are held to a strict pattern: no leading dash (option injection), no shell or path
// characters, bounded length.
export const INSTANCE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const MODULE_NAME = /^[A-Za-z][A-Za-z0-9]{0,31}$/;

export function isInstanceName(value: string): boolean {
  return INSTANCE_NAME.test(value);
}
