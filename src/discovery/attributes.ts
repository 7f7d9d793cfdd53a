import type { Attributes } from '../core/contracts.js';

// Module attributes as numbers. A value the agent cannot read (a `$(XTK_INSTALL_DIR)`-style placeholder,
// a typo) is no ground for a guess: it throws, and the plan makes the row `unknown` with the message.
// Only an absent attribute takes Campaign's documented default (empty ones were dropped by the parser).

const PLACEHOLDER = /\$\([A-Za-z_][A-Za-z0-9_]*\)/;

export interface NumberAttribute {
  module: string;
  name: string;
  /** Campaign's documented default, used when the attribute is absent. */
  fallback: number;
  min: number;
  max: number;
}

export function numberAttribute(attributes: Attributes, spec: NumberAttribute): number {
  const text = attributes[spec.name];
  if (text === undefined) return spec.fallback;
  const where = `<${spec.module} ${spec.name}="${text.length > 60 ? `${text.slice(0, 60)}…` : text}">`;
  if (PLACEHOLDER.test(text)) {
    throw new Error(`${where} holds a placeholder the agent cannot resolve; expected a number from ${spec.min} to ${spec.max}`);
  }
  const value = Number(text.trim());
  if (!Number.isInteger(value) || value < spec.min || value > spec.max) {
    throw new Error(`${where}: expected a whole number from ${spec.min} to ${spec.max}`);
  }
  return value;
}

export function portAttribute(attributes: Attributes, module: string, name: string, fallback: number): number {
  return numberAttribute(attributes, { module, name, fallback, min: 1, max: 65535 });
}
