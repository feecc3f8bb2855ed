// Package web is the web page qtalk serve offers on its ws and wss
// listeners: a small app built on the TypeScript package in js/ that
// chats, uses the kv store, echoes and answers a call from the server.
//
// The files in static/ are embedded in the binary, so the page is served
// on machines without Node. index.html and style.css are their own
// source; app.js is the bundle of js/src/web/app.ts, rebuilt with
// "npm run build:web" in js/ and checked against its source by
// js/scripts/check-web-bundle.sh.
package web
