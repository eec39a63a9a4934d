"""Load test of `mltc-keras serve`: requests/s, texts/s, latency percentiles and errors at several
numbers of concurrent clients, against the offline `predict_proba` on the same texts and against a
server that predicts each request alone (`--max-batch-size 1`).

Each client keeps one HTTP/1.1 keep-alive connection and sends, back to back, V1 predict requests
of 1-16 texts drawn from a real test split, for a bounded time per level; an answer is an error
unless it is a 200 with one prediction per text. One more level, 1 client sending 1 text a
request, is the like-for-like match of the offline single-text predict.

The offline figures (one call over all the texts; one text at a time) are measured at the start
and again just before each level of the batching server, while the server idles; the targets hold
each level against the figures just before it, since the cores are shared and their load drifts.
Each level also reports the CPU the server process and the client process used (cores busy, from
/proc and process_time), which shows what share of the machine the model got. The clients are one asyncio process with a
minimal HTTP client (the machine's cores are shared with the server; a heavier client would measure
itself). The server runs in a subprocess on 127.0.0.1.

    python benchmarks/serve_load.py --model models/bilstm.keras [--clients 1,8,32,128] [--seconds 20]
        [--max-batch-size 256] [--max-wait-ms 5] [--batch-size 64] [--runtime keras|onnx] [--json out.json]
"""

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pandas as pd

START_TIMEOUT = 300


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model, name, port, extra, log_path):
    args = [sys.executable, "-m", "mltc_keras", "serve", "--model", f"{name}={model}", "--port", str(port),
            *extra]
    log = open(log_path, "w")
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}; see {log_path}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.sendall(b"GET /v2/health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return proc
        except OSError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"server not ready in {START_TIMEOUT} s; see {log_path}")


def stop_server(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(10)


async def _request(reader, writer, path, body):
    writer.write(b"POST " + path + b" HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                 b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return status, await reader.readexactly(length)


async def _client(port, path, texts, rng, until, out, sizes):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.monotonic() < until:
            k = int(rng.integers(sizes[0], sizes[1] + 1))
            batch = [texts[i] for i in rng.integers(0, len(texts), size=k)]
            body = json.dumps({"instances": batch}).encode()
            started = time.perf_counter()
            try:
                status, answer = await _request(reader, writer, path, body)
                ok = status == 200 and len(json.loads(answer)["predictions"]) == k
            except (OSError, asyncio.IncompleteReadError, ValueError, KeyError):
                ok = False
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            out.append((time.perf_counter() - started, k, ok))
    finally:
        writer.close()


def cpu_seconds(pid):
    """User + system CPU seconds of a process so far (all its threads), from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


async def _drive(port, name, texts, clients, seconds, seed, sizes=(1, 16), server_pid=None):
    path = f"/v1/models/{name}:predict".encode()
    out = []
    until = time.monotonic() + seconds
    started, client_cpu = time.perf_counter(), time.process_time()
    server_cpu = cpu_seconds(server_pid) if server_pid else float("nan")
    await asyncio.gather(*(_client(port, path, texts, np.random.default_rng(seed + i), until, out, sizes)
                           for i in range(clients)))
    elapsed = time.perf_counter() - started
    client_cores = (time.process_time() - client_cpu) / elapsed
    server_cores = (cpu_seconds(server_pid) - server_cpu) / elapsed if server_pid else float("nan")
    done = [(lat, k) for lat, k, ok in out if ok]
    latencies = np.array([lat for lat, _ in done]) * 1000 if done else np.array([np.nan])
    return {"clients": clients, "texts_per_request": f"{sizes[0]}-{sizes[1]}" if sizes[0] != sizes[1] else sizes[0],
            "seconds": round(elapsed, 1), "requests": len(out),
            "requests_per_s": round(len(done) / elapsed, 1), "texts_per_s": round(sum(k for _, k in done) / elapsed, 1),
            "p50_ms": round(float(np.percentile(latencies, 50)), 1), "p95_ms": round(float(np.percentile(latencies, 95)), 1),
            "p99_ms": round(float(np.percentile(latencies, 99)), 1), "errors": sum(1 for *_, ok in out if not ok),
            "server_cpu_cores": round(server_cores, 2), "client_cpu_cores": round(client_cores, 2)}


def offline(predictor, texts, repeats, seed):
    """The in-process Predictor with its defaults: throughput over all the texts in one call, one
    text at a time, and calls of 1-16 texts drawn like the clients' requests."""
    started = time.perf_counter()
    for _ in range(repeats):
        predictor.predict_proba(texts)
    throughput = repeats * len(texts) / (time.perf_counter() - started)

    def p50_ms(batches):
        times = []
        for batch in batches:
            started = time.perf_counter()
            predictor.predict_proba(batch)
            times.append(time.perf_counter() - started)
        return round(float(np.median(times)) * 1000, 2)

    rng = np.random.default_rng(seed)
    requests = [[texts[i] for i in rng.integers(0, len(texts), size=int(rng.integers(1, 17)))] for _ in range(300)]
    return {"texts_per_s": round(throughput, 1), "single_text_p50_ms": p50_ms([[t] for t in texts[:300]]),
            "request_1_16_p50_ms": p50_ms(requests)}


def verdict(report):
    """The issue's targets; each level is held against the offline figures measured just before it
    (the cores are shared, and the load on them drifts over a run)."""
    on, alone = report["batching"], {r["clients"]: r for r in report["batching_off"]}
    checks = [("0 errors at every level", all(r["errors"] == 0 for r in on + report["batching_off"]),
               f"errors: {[r['errors'] for r in on]} (batching), {[r['errors'] for r in report['batching_off']]} (off)")]
    for r in on:
        off = r["offline_before"]
        if r["clients"] >= 32:
            ratio = r["texts_per_s"] / off["texts_per_s"]
            checks.append((f"{r['clients']} clients: texts/s >= 0.8x offline", ratio >= 0.8,
                           f"{r['texts_per_s']} vs {off['texts_per_s']} offline = {ratio:.2f}x"))
            if r["clients"] in alone:
                speedup = r["texts_per_s"] / max(alone[r["clients"]]["texts_per_s"], 1e-9)
                checks.append((f"{r['clients']} clients: texts/s >= 5x batching off", speedup >= 5,
                               f"{r['texts_per_s']} vs {alone[r['clients']]['texts_per_s']} = {speedup:.1f}x"))
        if r["clients"] == 1:
            checks.append(("1 client, 1-16 texts a request: p50 <= 2x one offline single-text predict",
                           r["p50_ms"] <= 2 * off["single_text_p50_ms"],
                           f"{r['p50_ms']} ms vs {off['single_text_p50_ms']} ms offline = "
                           f"{r['p50_ms'] / off['single_text_p50_ms']:.2f}x (offline calls of 1-16 texts: "
                           f"{off['request_1_16_p50_ms']} ms)"))
    single = report.get("single_text")
    if single:
        off = single["offline_before"]
        checks.append(("1 client, 1 text a request: p50 <= 2x one offline single-text predict",
                       single["p50_ms"] <= 2 * off["single_text_p50_ms"],
                       f"{single['p50_ms']} ms vs {off['single_text_p50_ms']} ms offline = "
                       f"{single['p50_ms'] / off['single_text_p50_ms']:.2f}x"))
    return [{"target": t, "met": bool(ok), "figures": f} for t, ok, f in checks]


def table(rows):
    def before(r):
        off = r.get("offline_before")
        return f" {off['texts_per_s']} / {off['single_text_p50_ms']} |" if off else " |"

    lines = ["| clients | texts/request | requests/s | texts/s | p50 ms | p95 ms | p99 ms | errors | CPU cores: server / "
             "clients | offline just before: texts/s / one text ms |", "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['clients']} | {r['texts_per_request']} | {r['requests_per_s']} | {r['texts_per_s']} | {r['p50_ms']} | "
              f"{r['p95_ms']} | {r['p99_ms']} | {r['errors']} | {r.get('server_cpu_cores')} / {r.get('client_cpu_cores')} |"
              + before(r) for r in rows]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/bilstm.keras")
    parser.add_argument("--data", default="data/goemotions/test.csv")
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--clients", default="1,8,32,128")
    parser.add_argument("--off-clients", default=None, help="levels for the batching-off server (default: --clients)")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--max-batch-size", type=int, default=256, help="the server's (default: serve's)")
    parser.add_argument("--max-wait-ms", type=float, default=5, help="the server's (default: serve's)")
    parser.add_argument("--batch-size", type=int, default=64, help="the server's (default: serve's)")
    parser.add_argument("--runtime", default="keras", choices=("keras", "onnx"),
                        help="what predicts, in the servers and offline alike (serve's --runtime)")
    parser.add_argument("--offline-repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None)
    parser.add_argument("--log-dir", default="/tmp")
    args = parser.parse_args()
    levels = [int(c) for c in args.clients.split(",")]
    off_levels = [int(c) for c in (args.off_clients or args.clients).split(",")]
    texts = pd.read_csv(args.data, keep_default_na=False)[args.text_column].astype(str).tolist()
    name = os.path.splitext(os.path.basename(args.model))[0]
    report = {"model": args.model, "data": args.data, "texts": len(texts), "seconds_per_level": args.seconds,
              "machine": f"{os.cpu_count()} CPU cores, {platform.machine()}, Python {platform.python_version()}",
              "server": {"max_batch_size": args.max_batch_size, "max_wait_ms": args.max_wait_ms,
                         "batch_size": args.batch_size, "runtime": args.runtime}}
    import mltc_keras

    predictor = mltc_keras.load(args.model, runtime=args.runtime)
    predictor.predict_proba(texts[:512])  # warm-up
    report["arch"], report["max_length"] = predictor.model.arch, predictor.model.max_length
    print(f"offline predict_proba on {len(texts)} texts ...", flush=True)
    report["offline"] = offline(predictor, texts, args.offline_repeats, args.seed)
    print(json.dumps(report["offline"]), flush=True)
    for key, extra, todo in (
            ("batching", ["--max-batch-size", str(args.max_batch_size), "--max-wait-ms", str(args.max_wait_ms)], levels),
            ("batching_off", ["--max-batch-size", "1", "--max-wait-ms", "0"], off_levels)):
        port = free_port()
        proc = start_server(args.model, name, port, [*extra, "--batch-size", str(args.batch_size), "--runtime", args.runtime],
                            os.path.join(args.log_dir, f"serve_load_{name}_{key}.log"))
        rows = []
        try:
            asyncio.run(_drive(port, name, texts, 4, 3, args.seed))  # warm the server's shapes and connections
            for clients in todo:
                before = offline(predictor, texts, 1, args.seed) if key == "batching" else None
                rows.append(asyncio.run(_drive(port, name, texts, clients, args.seconds, args.seed, server_pid=proc.pid)))
                if before:
                    rows[-1]["offline_before"] = before
                print(key, json.dumps(rows[-1]), flush=True)
            if key == "batching":
                before = offline(predictor, texts, 1, args.seed)
                report["single_text"] = asyncio.run(_drive(port, name, texts, 1, args.seconds, args.seed, (1, 1),
                                                           server_pid=proc.pid))
                report["single_text"]["offline_before"] = before
                print("single_text", json.dumps(report["single_text"]), flush=True)
        finally:
            code = stop_server(proc)
        report[key] = rows
        report[f"{key}_exit_code"] = code
    report["targets"] = verdict(report)
    off = report["offline"]
    print(f"\n{report['model']} ({report['arch']}), offline predict_proba at the start: {off['texts_per_s']} texts/s "
          f"over the {len(texts)} texts; one text p50 {off['single_text_p50_ms']} ms; 1-16 texts p50 "
          f"{off['request_1_16_p50_ms']} ms")
    print(f"\nbatching (--max-batch-size {args.max_batch_size} --max-wait-ms {args.max_wait_ms} "
          f"--batch-size {args.batch_size}):\n" + table(report["batching"] + [report["single_text"]]))
    print("\nbatching off (--max-batch-size 1):\n" + table(report["batching_off"]))
    for t in report["targets"]:
        print(f"- [{'met' if t['met'] else 'MISSED'}] {t['target']}: {t['figures']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
