// Bundles the front end: js/widget.ts -> kanwidget/static/widget.js (ESM, minified), and
// CSS -> kanwidget/static/widget.css, either imported from widget.ts or as js/widget.css.
// `node build.mjs --watch` rebuilds on change (npm run dev).
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import * as esbuild from "esbuild";

const watch = process.argv.includes("--watch");
const entry = "js/widget.ts";
const entryPoints = [entry];
// A stand-alone js/widget.css is its own entry unless widget.ts already imports it
// (then esbuild emits it next to widget.js and a second entry would collide).
if (existsSync("js/widget.css") && !/["']\.\/widget\.css["']/.test(readFileSync(entry, "utf8"))) {
  entryPoints.push("js/widget.css");
}

const options = {
  entryPoints,
  outdir: "kanwidget/static",
  entryNames: "[name]",
  bundle: true,
  format: "esm",
  target: "es2020",
  minify: !watch,
  sourcemap: watch ? "inline" : false,
  // Exported HTML loads widgets under RequireJS; UMD code inside the bundle must not
  // mistake that for its own AMD loader.
  define: { "define.amd": "false" },
  // V8 compiles every function of the bundle when it loads the module (a compile hint; a
  // comment to other engines) instead of each on its first call: a first render of a big
  // model no longer compiles ~15 ms of code inside its own task (issue 14).
  banner: { js: "//# allFunctionsCalledOnLoad" },
  logLevel: "info",
};

// The scripts an exported offline HTML page inlines (kanwidget/sharing.py), copied next to
// the bundle so a pip-installed kanwidget can export without node_modules. None of them is
// part of widget.js (anywidget saves the whole bundle in every widget's state). MathJax 3's
// tex-svg-full.js is one file with every TeX extension and SVG output (no web fonts).
const vendor = {
  "require.js": "node_modules/requirejs/require.js",
  "embed-amd.js": "node_modules/@jupyter-widgets/html-manager/dist/embed-amd.js",
  "anywidget.js": "node_modules/anywidget/dist/index.js",
  "mathjax.js": "node_modules/mathjax/es5/tex-svg-full.js",
};
mkdirSync("kanwidget/static/vendor", { recursive: true });
for (const [flat, src] of Object.entries(vendor)) {
  copyFileSync(src, `kanwidget/static/vendor/${flat}`);
}

if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
} else {
  await esbuild.build(options);
}
