// The parts of wavedrom 3.7 (CommonJS, no types of its own) that trilut calls: render a WaveJSON
// source to an ONML tree with the default skin, and turn that tree into SVG text.
declare module "wavedrom" {
  type Onml = [string, Record<string, unknown>, ...unknown[]];
  interface WaveDrom {
    readonly version: string;
    readonly waveSkin: Record<string, unknown>;
    renderAny(index: number, source: object, waveSkin: Record<string, unknown>, notFirstSignal?: boolean): Onml;
    readonly onml: { stringify(tree: Onml): string };
  }
  const wavedrom: WaveDrom;
  export = wavedrom;
}
