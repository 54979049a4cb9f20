// Stands in for Istio's helloworld sample image (samples/helloworld/src/app.py), whose content cannot
// be pulled here: on port 5000, `GET /hello` answers "Hello version: <version>, instance: <hostname>",
// as the image's Flask app does; `GET /health` answers "Helloworld is healthy". Each request is logged
// with the x-forwarded-client-cert header that the server's sidecar adds for an mTLS peer (its SPIFFE
// identity), so the test can see who the sidecar let in.
//
//   node helloworld.mjs <version>      (the pod's name arrives as HOSTNAME, as in a container)
import * as http from "node:http";

const version = process.argv[2];
const instance = process.env.HOSTNAME;
http.createServer((request, response) => {
    console.log(`${request.method} ${request.url} xfcc=${request.headers["x-forwarded-client-cert"] ?? "-"}`);
    if (request.method === "GET" && request.url === "/hello") {
        response.end(`Hello version: ${version}, instance: ${instance}\n`);
    } else if (request.method === "GET" && request.url === "/health") {
        response.end("Helloworld is healthy");
    } else {
        response.statusCode = 404;
        response.end();
    }
}).listen(5000, "0.0.0.0");
