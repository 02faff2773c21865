// Number formatting shared by the console log and the markdown summary.

export function bytes(b: number | undefined): string {
  if (b === undefined || !Number.isFinite(b)) return "—";
  if (b >= 2 ** 30) return `${(b / 2 ** 30).toFixed(2)} GiB`;
  if (b >= 2 ** 20) return `${(b / 2 ** 20).toFixed(1)} MiB`;
  if (b >= 2 ** 10) return `${(b / 2 ** 10).toFixed(1)} KiB`;
  return `${b} B`;
}

export function seconds(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s)) return "—";
  if (s >= 100) return `${s.toFixed(0)} s`;
  if (s >= 1) return `${s.toFixed(2)} s`;
  return `${(s * 1000).toFixed(1)} ms`;
}

export function ratio(x: number | undefined, digits = 2): string {
  return x === undefined || !Number.isFinite(x) ? "—" : `${x.toFixed(digits)}×`;
}

export function count(n: number): string {
  return n.toLocaleString("en-US");
}
