#!/usr/bin/env python3
"""The load and the checks of `scripts/soak`, which prepares the services and calls this.

    soak.py DURATION_S WORKERS BINARY WORK_DIR

Starts one API process (`obscura serve --workers 0`) and WORKERS worker processes of BINARY
with the environment it is given, and runs against them for DURATION_S seconds:

- documents: up to four at a time, plain text and PDF, each uploaded to one of three
  projects, detected and then anonymized; the people in them recur across documents;
- the text API: a prompt sanitized and its masked form rehydrated, twice a second, checking
  that the round trip gives the prompt back;
- two WebSocket clients subscribed to the tenant: one stays connected, the other drops its
  connection every minute or so and resumes with `since`; told it lagged, a client fetches
  what it missed from `GET /api/v1/events`;
- every RESTART_EVERY seconds (180; env SOAK_RESTART_EVERY) a random worker is killed,
  SIGKILL and SIGTERM in turn, and started again;
- every 15 s the resident memory of each process is sampled.

Then it lets the queued work finish and reports: documents lost, documents in ERROR, jobs
stuck, jobs failed, one person with two aliases, documents anonymized more than once (audit
records), events the resuming client missed, text API failures, and each process's RSS with
its growth per hour (least squares over the samples after the first five minutes).
Exits 1 if any of the counts that must be zero is not.

Needs the `websockets` package.
"""

import asyncio
import collections
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid

import websockets

KEY = os.environ["OBSCURA__AUTH__BOOTSTRAP_KEY"]
RESTART_EVERY = float(os.environ.get("SOAK_RESTART_EVERY", "180"))
SAMPLE_EVERY = 15.0
WARM_UP = 300.0
DOCUMENTS_AT_ONCE = 4
DRAIN_LIMIT = 900.0
FINAL_STATES = {"ANONYMIZATION_COMPLETE", "ERROR"}
PEOPLE = [
    ("Lucía Fernández Ortega", "lucia.fernandez@example.com", "+34 612 345 678"),
    ("Jorge Navarro Gil", "jorge.navarro@example.org", "+34 622 456 789"),
    ("Amaia Etxeberria", "amaia.etxeberria@example.net", "+34 633 567 890"),
    ("Pablo Quintana Ruiz", "pablo.quintana@example.com", "+34 644 678 901"),
    ("Irene Soler Vidal", "irene.soler@example.org", "+34 655 789 012"),
    ("Margaret Whitfield", "m.whitfield@example.co.uk", "+44 20 7946 0958"),
    ("Daniel Okafor", "daniel.okafor@example.com", "+1 415 555 0134"),
    ("Sofía Castaño Prieto", "sofia.castano@example.es", "+34 666 890 123"),
]


def pdf_of(lines):
    """A one-page PDF with the lines in Helvetica (Latin-1), written by hand."""
    def escape(text):
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    content = "BT /F1 11 Tf 14 TL 56 780 Td\n" + "".join(f"({escape(line)}) '\n" for line in lines) + "ET\n"
    stream = content.encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


class Api:
    def __init__(self, port):
        self.port = port

    def call(self, method, path, body=None, content_type="application/json", timeout=120):
        headers = {"Authorization": f"Bearer {KEY}"}
        if body is not None:
            headers["Content-Type"] = content_type
            if content_type == "application/json":
                body = json.dumps(body).encode()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        try:
            value = json.loads(data) if data else None
        except ValueError:
            value = None
        return response.status, value

    async def acall(self, *args, **kwargs):
        return await asyncio.to_thread(self.call, *args, **kwargs)

    def upload(self, project_id, name, content):
        boundary = uuid.uuid4().hex
        body = (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode() + content + f"\r\n--{boundary}--\r\n".encode()
        return self.call("POST", f"/api/v1/documents?project_id={project_id}", body,
                         content_type=f"multipart/form-data; boundary={boundary}")


class Process:
    """One obscura process; restarts keep the slot and log, and take a new name."""

    def __init__(self, slot, binary, arguments, work_dir):
        self.slot, self.binary, self.arguments = slot, binary, arguments
        self.log = open(os.path.join(work_dir, f"{slot}.log"), "ab")
        self.generation = 0
        self.popen = None
        self.start()

    def start(self):
        arguments = [a.replace("{generation}", str(self.generation)) for a in self.arguments]
        self.popen = subprocess.Popen([self.binary, *arguments], stdout=self.log, stderr=self.log)
        self.started = time.monotonic()

    def restart(self, how):
        self.popen.send_signal(how)
        self.popen.wait(timeout=120)
        self.generation += 1
        self.start()

    def rss_kib(self):
        try:
            with open(f"/proc/{self.popen.pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def stop(self):
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.popen.kill()


class Soak:
    def __init__(self, api, processes, started):
        self.api, self.processes, self.started = api, processes, started
        self.stop = asyncio.Event()
        self.uploaded = {}
        self.upload_refusals = collections.Counter()
        self.text_calls = 0
        self.text_failures = collections.Counter()
        self.samples = collections.defaultdict(list)
        self.resumes = 0
        self.resyncs = 0
        self.restarts = []
        self.counter = 0

    def elapsed(self):
        return time.monotonic() - self.started

    async def documents(self, projects):
        slots = asyncio.Semaphore(DOCUMENTS_AT_ONCE)
        tasks = set()
        while not self.stop.is_set():
            await slots.acquire()
            if self.stop.is_set():
                slots.release()
                break
            task = asyncio.create_task(self.one_document(random.choice(projects)))
            tasks.add(task)
            task.add_done_callback(lambda done: (tasks.discard(done), slots.release()))
        await asyncio.gather(*tasks)

    async def one_document(self, project_id):
        self.counter += 1
        number = self.counter
        people = random.sample(PEOPLE, 3)
        lines = [f"Expediente {number}-{uuid.uuid4().hex[:8]}."]
        for name, email, phone in people:
            lines.append(f"Comparece {name}, con correo {email} y teléfono {phone}.")
        lines.append(f"Se notifica a {people[0][0]} en {people[0][1]}.")
        if number % 2:
            name, content = f"acta-{number}.pdf", pdf_of(lines)
        else:
            name, content = f"acta-{number}.txt", ("\n".join(lines) + "\n").encode()
        status, body = await asyncio.to_thread(self.api.upload, project_id, name, content)
        if status != 201:
            self.upload_refusals[status] += 1
            await asyncio.sleep(1)
            return
        document_id = body["id"]
        self.uploaded[document_id] = "PENDING"
        for operation, awaited in (("detect", "DETECTION_COMPLETE"), ("anonymize", "ANONYMIZATION_COMPLETE")):
            status, _ = await self.api.acall("POST", f"/api/v1/documents/{document_id}/{operation}", {})
            if status != 202:
                self.uploaded[document_id] = f"{operation} refused {status}"
                return
            state = await self.wait_document(document_id, {awaited, "ERROR"}, stop_aware=False)
            self.uploaded[document_id] = state
            if state != awaited:
                return

    async def wait_document(self, document_id, states, stop_aware, limit=DRAIN_LIMIT):
        deadline = time.monotonic() + limit
        state = None
        while time.monotonic() < deadline:
            try:
                status, body = await self.api.acall("GET", f"/api/v1/documents/{document_id}")
            except OSError:
                status, body = None, None
            if status == 404:
                return "missing"
            if status == 200:
                state = body["state"]
                if state in states:
                    return state
            if stop_aware and self.stop.is_set():
                break
            await asyncio.sleep(0.5)
        return state or "unknown"

    async def text_api(self):
        while not self.stop.is_set():
            name, email, phone = random.choice(PEOPLE)
            prompt = f"Summarise the complaint of {name} ({email}, {phone}) about invoice {random.randint(1000, 9999)}."
            self.text_calls += 1
            try:
                status, body = await self.api.acall("POST", "/api/v1/sanitize", {"content": prompt})
                if status != 200:
                    self.text_failures[f"sanitize {status}"] += 1
                elif email in json.dumps(body["sanitized_content"]):
                    self.text_failures["sanitize left the address"] += 1
                else:
                    request = {"masked_content": body["sanitized_content"]}
                    if body.get("mask_map") is not None:
                        request["mask_map"] = body["mask_map"]
                    else:
                        request["session_id"] = body["session_id"]
                    status, back = await self.api.acall("POST", "/api/v1/rehydrate", request)
                    if status != 200:
                        self.text_failures[f"rehydrate {status}"] += 1
                    elif back["rehydrated_content"] != prompt:
                        self.text_failures["round trip differs"] += 1
            except OSError as error:
                self.text_failures[type(error).__name__] += 1
            await asyncio.sleep(0.5)

    async def watch(self, seen, resume):
        """Records the sequence numbers of the tenant's events; resumes now and then if asked."""
        last = None
        url = f"ws://127.0.0.1:{self.api.port}/ws/progress"
        headers = {"Authorization": f"Bearer {KEY}"}
        while not self.stop.is_set():
            target = url if last is None else f"{url}?since={last}"
            try:
                async with websockets.connect(target, additional_headers=headers, max_size=None) as socket:
                    await socket.send(json.dumps({"action": "subscribe", "tenant": True}))
                    hold = random.uniform(45, 90) if resume else None
                    opened = time.monotonic()
                    while not self.stop.is_set():
                        if hold is not None and time.monotonic() - opened > hold:
                            break
                        try:
                            message = json.loads(await asyncio.wait_for(socket.recv(), timeout=1))
                        except asyncio.TimeoutError:
                            continue
                        if message.get("type") == "lagged":
                            # Fallen behind: the events from where it fell behind to the
                            # resync point come by polling, as a careful client fetches them.
                            self.resyncs += 1
                            recovered = await self.poll_events(message["seq"])
                            seen.update(recovered)
                        if message.get("type") in ("progress", "complete", "error") and isinstance(message.get("seq"), int):
                            seen.add(message["seq"])
                            last = message["seq"] if last is None else max(last, message["seq"])
            except (OSError, websockets.WebSocketException):
                await asyncio.sleep(1)
                continue
            if resume and not self.stop.is_set():
                self.resumes += 1
                # Events go on while the client is away.
                await asyncio.sleep(random.uniform(1, 5))

    async def poll_events(self, since):
        seqs = []
        while True:
            status, body = await self.api.acall("GET", f"/api/v1/events?since={since}&limit=1000")
            if status != 200 or not body["events"]:
                return seqs
            seqs += [event["seq"] for event in body["events"]]
            if body["next_since"] <= since:
                return seqs
            since = body["next_since"]

    async def restarter(self, workers):
        how = [signal.SIGKILL, signal.SIGTERM]
        while True:
            try:
                await asyncio.wait_for(self.stop.wait(), timeout=RESTART_EVERY)
                return
            except asyncio.TimeoutError:
                pass
            worker = random.choice(workers)
            signal_to_send = how[len(self.restarts) % 2]
            await asyncio.to_thread(worker.restart, signal_to_send)
            self.restarts.append((round(self.elapsed()), worker.slot, signal.Signals(signal_to_send).name))

    async def sampler(self):
        while True:
            for process in self.processes:
                rss = process.rss_kib()
                if rss is not None:
                    self.samples[(process.slot, process.generation)].append(
                        (time.monotonic() - process.started, self.elapsed(), rss))
            try:
                await asyncio.wait_for(self.stop.wait(), timeout=SAMPLE_EVERY)
                return
            except asyncio.TimeoutError:
                pass


def growth_per_hour(samples):
    """KiB per hour, least squares over the samples past the warm-up; None if too few."""
    points = [(age, rss) for age, _, rss in samples if age >= WARM_UP]
    if len(points) < 8:
        return None
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    numerator = sum((x - mean_x) * (y - mean_y) for x, y in points)
    denominator = sum((x - mean_x) ** 2 for x, _ in points)
    return numerator / denominator * 3600 if denominator else None


async def all_pages(api, path, key):
    items, offset = [], 0
    while True:
        separator = "&" if "?" in path else "?"
        status, body = await api.acall("GET", f"{path}{separator}limit=200&offset={offset}")
        if status != 200:
            raise SystemExit(f"GET {path}: {status} {body}")
        page = body[key]
        items += page
        if len(page) < 200:
            return items
        offset += 200


async def all_events(api, since):
    events = []
    while True:
        status, body = await api.acall("GET", f"/api/v1/events?since={since}&limit=1000")
        if status != 200:
            raise SystemExit(f"GET /api/v1/events: {status} {body}")
        events += body["events"]
        if not body["events"] or body["next_since"] <= since:
            return events
        since = body["next_since"]


async def run(duration, worker_count, binary, work_dir):
    port = int(os.environ["SOAK_PORT"])
    api = Api(port)
    started = time.monotonic()
    server = Process("api", binary, ["serve", "--workers", "0", "--bind", f"127.0.0.1:{port}",
                                     "--data-dir", os.path.join(work_dir, "api-data")], work_dir)
    workers = [Process(f"worker-{index}", binary, ["worker", "--name", f"soak-{index}-g{{generation}}", "--concurrency", "1"], work_dir)
               for index in range(worker_count)]
    try:
        for _ in range(600):
            try:
                if api.call("GET", "/health", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            await asyncio.sleep(0.5)
        else:
            raise SystemExit("the API did not become healthy; see its log in " + work_dir)
        soak = Soak(api, [server, *workers], time.monotonic())
        projects = []
        for name in ("Juzgado", "Clínica", "Contratos"):
            status, body = await api.acall("POST", "/api/v1/projects", {"name": f"Soak {name} {uuid.uuid4().hex[:6]}"})
            if status != 201:
                raise SystemExit(f"creating a project: {status} {body}")
            projects.append(body["id"])
        steady, resuming = set(), set()
        load = [
            asyncio.create_task(soak.documents(projects)),
            asyncio.create_task(soak.text_api()),
            asyncio.create_task(soak.watch(steady, resume=False)),
            asyncio.create_task(soak.watch(resuming, resume=True)),
            asyncio.create_task(soak.restarter(workers)),
            asyncio.create_task(soak.sampler()),
        ]
        print(f"soaking for {duration:.0f} s with {worker_count} workers; logs in {work_dir}", flush=True)
        await asyncio.sleep(duration)
        soak.stop.set()
        print("load stopped; letting queued work finish", flush=True)
        await asyncio.gather(*load)
        pending = [document for document, state in soak.uploaded.items() if state not in FINAL_STATES]
        for document in pending:
            soak.uploaded[document] = await soak.wait_document(document, FINAL_STATES, stop_aware=False)
        return await report(api, soak, projects, steady, resuming)
    finally:
        for process in [*workers, server]:
            process.stop()


async def report(api, soak, projects, steady, resuming):
    lines = []
    failures = 0

    def line(text, must_be_zero=None):
        nonlocal failures
        if must_be_zero:
            failures += 1
        lines.append(text)

    states = collections.Counter()
    for document_id in soak.uploaded:
        status, body = await api.acall("GET", f"/api/v1/documents/{document_id}")
        states[body["state"] if status == 200 else f"HTTP {status}"] += 1
    lost = sum(count for state, count in states.items() if state.startswith("HTTP"))
    stuck_documents = sum(count for state, count in states.items() if state not in FINAL_STATES and not state.startswith("HTTP"))
    line(f"documents uploaded: {len(soak.uploaded)} ({dict(states)}); upload refusals: {dict(soak.upload_refusals)}")
    line(f"documents lost: {lost}", lost)
    line(f"documents in ERROR: {states.get('ERROR', 0)}", states.get("ERROR", 0))
    line(f"documents stuck (not finished after the drain): {stuck_documents}", stuck_documents)

    jobs = await all_pages(api, "/api/v1/jobs", "items")
    job_states = collections.Counter(job["state"] for job in jobs)
    stuck_jobs = sum(count for state, count in job_states.items() if state not in ("succeeded", "failed", "cancelled"))
    retried = sum(1 for job in jobs if job.get("attempts", 1) > 1)
    line(f"jobs: {len(jobs)} ({dict(job_states)}), {retried} run more than once")
    line(f"jobs stuck: {stuck_jobs}", stuck_jobs)
    line(f"jobs failed: {job_states.get('failed', 0)}", job_states.get("failed", 0))

    duplicates = 0
    for project_id in projects:
        status, glossary = await api.acall("GET", f"/api/v1/projects/{project_id}/export/glossary?format=json")
        if status != 200:
            raise SystemExit(f"glossary export: {status} {glossary}")
        aliases = collections.defaultdict(set)
        for entry in glossary:
            aliases[(entry["category"], entry["original"].casefold())].add(entry["alias"])
        duplicates += sum(len(found) - 1 for found in aliases.values() if len(found) > 1)
    line(f"people with more than one alias in a project: {duplicates}", duplicates)

    anonymized = sum(1 for state in soak.uploaded.values() if state == "ANONYMIZATION_COMPLETE")
    audited = 0
    for project_id in projects:
        status, body = await api.acall("GET", f"/api/v1/audit?project_id={project_id}&action=document.anonymized&limit=1")
        audited += body["total"]
    line(f"anonymization audit records: {audited} for {anonymized} anonymized documents", audited != anonymized)

    if resuming:
        first, last = min(resuming), max(resuming)
        truth = {event["seq"] for event in await all_events(api, first - 1) if first <= event["seq"] <= last}
        missed = len(truth - resuming)
        steady_missed = len({seq for seq in truth if seq <= max(steady, default=0)} - steady)
        line(f"events {first}..{last}: {len(truth)}; the resuming client ({soak.resumes} resumes, "
             f"{soak.resyncs} lagged notices, each followed by polling) missed {missed}; the steady client missed {steady_missed}",
             missed or steady_missed)
    else:
        line("the resuming client saw no event", True)

    line(f"text API: {soak.text_calls} sanitize and rehydrate round trips, failures {dict(soak.text_failures)}",
         sum(soak.text_failures.values()))
    line(f"worker restarts: {len(soak.restarts)} {soak.restarts}")
    line("resident memory (MiB): first, last, max sample; growth per hour after the first 5 minutes")
    for (slot, generation), samples in sorted(soak.samples.items()):
        values = [rss for _, _, rss in samples]
        growth = growth_per_hour(samples)
        growth_text = "n/a (ran under 7 minutes)" if growth is None else f"{growth / 1024:+.1f} MiB/h"
        line(f"  {slot} (run {generation}, {len(samples)} samples over {samples[-1][0] / 60:.0f} min): "
             f"{values[0] / 1024:.1f}, {values[-1] / 1024:.1f}, {max(values) / 1024:.1f}; {growth_text}")
    print("\n".join(lines), flush=True)
    return failures


def main(arguments):
    if len(arguments) != 4:
        raise SystemExit(__doc__)
    duration, workers, binary, work_dir = float(arguments[0]), int(arguments[1]), arguments[2], arguments[3]
    failures = asyncio.run(run(duration, workers, binary, work_dir))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
