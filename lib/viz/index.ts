// Public surface of the viewer: the server and the CLI entry.
export { VizServer, VizServerOptions, startVizServer, assetsDir } from './server';
export { runVizCommand, parseVizArgs } from './cli';
export { discover, Source } from './sources';
