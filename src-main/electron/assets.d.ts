/** Images bundled by esbuild's dataurl loader (see build:electron): the import is a data: URL. */
declare module '*.png' {
  const dataUrl: string;
  export default dataUrl;
}
