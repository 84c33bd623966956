/**
 * OTP's restart intensity: a supervisor may restart at most `intensity` times in any window of
 * `period` ms; one more restart means its children keep failing and it must give up.
 */
export class RestartIntensity {
  private readonly times: number[] = [];

  constructor(
    private readonly intensity: number,
    private readonly period: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Records one restart; false when that makes more than `intensity` restarts within `period`. */
  record(): boolean {
    const t = this.now();
    this.times.push(t);
    while (this.times.length > 0 && t - this.times[0]! >= this.period) this.times.shift();
    return this.times.length <= this.intensity;
  }
}
