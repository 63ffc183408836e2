// Parsers of numeric command-line options: a bad value is commander's one-line usage error.
import { InvalidArgumentError } from 'commander';

export function positiveInteger(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} must be an integer >= 1`);
    return n;
  };
}
