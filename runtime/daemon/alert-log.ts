import type { Alert } from "./host/host-types.js";

/** The most recent alerts, for `msf status`: a bounded list, oldest dropped first. */
export class AlertLog {
  private readonly alerts: Alert[] = [];

  constructor(private readonly limit = 50) {}

  add(alert: Alert): void {
    this.alerts.push(alert);
    if (this.alerts.length > this.limit) this.alerts.splice(0, this.alerts.length - this.limit);
  }

  list(): readonly Alert[] {
    return this.alerts;
  }
}
