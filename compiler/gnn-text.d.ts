// The browser build imports .gnn sources as text (esbuild's text loader, playground/build.mjs).
declare module "*.gnn" {
  const text: string;
  export default text;
}
