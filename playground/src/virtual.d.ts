// Modules the build (playground/build.ts) makes: the examples/*.gnn files, in name order.
declare module "virtual:examples" {
  const examples: { file: string; text: string }[];
  export default examples;
}
