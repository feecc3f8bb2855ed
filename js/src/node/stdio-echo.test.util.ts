// A child process for the exec tests: it serves a session on stdio: whose
// channels echo, or exits at once with the status given as argument.

import { listen } from "../transport/registry.js";
import { registerNodeConnectors } from "./connectors.js";
import { echoChannels } from "./transport.test.util.js";

registerNodeConnectors();
const exitStatus = process.argv[2];
if (exitStatus !== undefined) process.exit(Number(exitStatus));
const listener = await listen("stdio:");
await echoChannels(await listener.accept());
await listener.close();
