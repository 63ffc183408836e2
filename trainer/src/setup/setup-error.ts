// A setup failure the user can act on: one line with the reason and the fix, no stack trace.
export class SetupError extends Error {
  readonly fix: string;

  constructor(reason: string, fix: string) {
    super(reason);
    this.fix = fix;
  }

  /** `reason. Fix: fix` */
  line(): string {
    return `${this.message}. Fix: ${this.fix}`;
  }
}
