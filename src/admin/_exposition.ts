/**
 * The text exposition format's building blocks: one family at a time,
 * escaping and number spelling (format 0.0.4).
 *
 * @module
 */

/** A metric family's type. */
export type MetricType = "counter" | "gauge" | "histogram";

/** Label names to values. */
export type Labels = Readonly<Record<string, string>>;

/** One sample of a family. */
export interface Sample {
  /** Appended to the family name: `_bucket`, `_sum`, `_count` for histograms. */
  readonly suffix?: string;
  readonly labels?: Labels;
  readonly value: number;
}

/** Appends one family: HELP, TYPE, then every sample; nothing when there are no samples. */
export function family(
  out: string[],
  name: string,
  type: MetricType,
  help: string,
  samples: readonly Sample[],
): void {
  if (samples.length === 0) return;
  out.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
  for (const s of samples) {
    const labels = Object.entries(s.labels ?? {});
    const set = labels.length === 0
      ? ""
      : `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`;
    out.push(`${name}${s.suffix ?? ""}${set} ${formatValue(s.value)}`);
  }
}

/** HELP text escapes only backslash and newline (format 0.0.4). */
function escapeHelp(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

/** Label values escape backslash, double quote and newline; backslash first, or it would double the others' escapes. */
function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/**
 * A sample value: integers as integers, other finite numbers in JS's
 * shortest round-trip form (which Go's `ParseFloat` reads back exactly),
 * and the three non-finite values spelled as the format wants.
 */
function formatValue(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}

/**
 * A bucket bound, spelled as Go's client library spells it
 * (`strconv.FormatFloat(v, 'g', -1, 64)`): `le` is a label, compared as a
 * string, so `"1"` and `"1.0"` would be different series to Prometheus.
 * Go switches to an exponent below 1e-4 and from 1e6 up, with at least
 * two exponent digits (`1e+06`); JS does so only outside 1e-7..1e21.
 */
export function formatBound(n: number): string {
  if (!Number.isFinite(n)) return formatValue(n);
  const [mantissa, exp] = n.toExponential().split("e") as [string, string];
  const e = Number(exp);
  if (n !== 0 && (e < -4 || e >= 6)) {
    return `${mantissa}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  }
  return String(n);
}
