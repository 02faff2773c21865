// The live training plot: loss and validation accuracy per epoch, a vega-lite spec compiled once
// to a vega view whose data set grows by one row per epoch.
import { compile, type TopLevelSpec } from "vega-lite";
import { parse, View } from "vega";

export interface PlotRow {
  epoch: number;
  series: "train loss" | "valid loss" | "valid accuracy" | "train accuracy";
  value: number;
}

const SPEC: TopLevelSpec = {
  $schema: "https://vega.github.io/schema/vega-lite/v5.json",
  width: 440,
  height: 220,
  data: { name: "log" },
  mark: { type: "line", point: false },
  encoding: {
    x: { field: "epoch", type: "quantitative", title: "epoch" },
    y: { field: "value", type: "quantitative", title: null },
    color: { field: "series", type: "nominal", title: null, legend: { orient: "top" } },
  },
};

/** Made with its first rows: vega lays out an empty data set with infinite extents. */
export class LivePlot {
  private readonly view: View;

  constructor(parent: HTMLElement, first: PlotRow[]) {
    parent.replaceChildren();
    this.view = new View(parse(compile(SPEC).spec), { renderer: "svg", container: parent });
    void this.view.insert("log", first).runAsync();
  }

  add(rows: PlotRow[]): void {
    void this.view.insert("log", rows).runAsync();
  }
}
