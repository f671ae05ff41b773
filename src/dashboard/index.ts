/** The dashboard: a read-only web server over the study store, with live pages. Needs no addon. */
export * from './api.js';
export * from './auth.js';
export * from './data.js';
export * from './server.js';
