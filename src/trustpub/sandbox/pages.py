"""The read side of the sandbox index: ``/simple/`` (PEP 503/691), ``/pypi/<name>/json``, ``/files/``.

Enough for ``pip install --index-url <simple_url>`` to install what was
published, and for clients to check whether a file already exists. The
project and release pages (``/project/<name>/``, ``/project/<name>/<version>/``)
are plain lists of files, there so that the links a publish prints (PyPI's
web layout) lead somewhere on the sandbox too.
"""

from __future__ import annotations

import html

from packaging.utils import canonicalize_name
from packaging.version import Version
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from trustpub.sandbox.attestations import INTEGRITY_JSON, provenance_path
from trustpub.sandbox.routing import Endpoints, route
from trustpub.sandbox.state import FileRecord, IndexState, Project

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return SIMPLE_JSON in accept


def _provenance_url(request: Request, project: Project, record: FileRecord) -> str | None:
    """PEP 740's ``provenance`` key: the integrity URL when the file was attested."""
    if not record.attestations:
        return None
    base = str(request.base_url).rstrip("/")
    return f"{base}/integrity/{project.normalized}/{record.version}/{record.filename}/provenance"


def _integrity_type(accept: str) -> str | None:
    """Warehouse's content negotiation for provenance: its JSON type first, then JSON."""
    offered = [part.split(";")[0].strip() for part in accept.split(",") if part.strip()]
    if not offered or any(t in ("*/*", "application/*", INTEGRITY_JSON) for t in offered):
        return INTEGRITY_JSON
    return "application/json" if "application/json" in offered else None


def _file_url(project: Project, record: FileRecord) -> str:
    return f"/files/{project.normalized}/{record.filename}"


class IndexEndpoints(Endpoints):
    """Simple API, JSON API and file downloads of one sandbox index."""

    def __init__(self, state: IndexState) -> None:
        self.state = state

    @route("GET", "/simple/")
    async def simple_root(self, request: Request) -> Response:
        projects = list(self.state.iter_projects())
        if _wants_json(request):
            body = {
                "meta": {"api-version": "1.1"},
                "projects": [{"name": p.name} for p in projects],
            }
            return JSONResponse(body, media_type=SIMPLE_JSON)
        links = "\n".join(
            f'    <a href="/simple/{p.normalized}/">{html.escape(p.name)}</a><br/>'
            for p in projects
        )
        page = (
            '<!DOCTYPE html>\n<html>\n  <head>\n    <meta name="pypi:repository-version" '
            'content="1.1">\n    <title>Simple index</title>\n  </head>\n  <body>\n'
            f"{links}\n  </body>\n</html>\n"
        )
        return HTMLResponse(page)

    @route("GET", "/simple/{name}")
    async def simple_redirect(self, request: Request) -> Response:
        return RedirectResponse(f"/simple/{canonicalize_name(request.path_params['name'])}/", 301)

    @route("GET", "/simple/{name}/")
    async def simple_project(self, request: Request) -> Response:
        name: str = request.path_params["name"]
        normalized = canonicalize_name(name)
        if name != normalized:
            return RedirectResponse(f"/simple/{normalized}/", status_code=301)
        project = self.state.project(name)
        if project is None:
            return Response("Not Found", status_code=404, media_type="text/plain")
        files = sorted(project.files, key=lambda f: f.filename)
        if _wants_json(request):
            body = {
                "meta": {"api-version": "1.1"},
                "name": project.normalized,
                "versions": sorted({f.version for f in files}),
                "files": [
                    {
                        "filename": f.filename,
                        "url": _file_url(project, f),
                        "hashes": {"sha256": f.sha256},
                        "requires-python": f.requires_python,
                        "size": f.size,
                        "yanked": False,
                        "provenance": _provenance_url(request, project, f),
                    }
                    for f in files
                ],
            }
            return JSONResponse(body, media_type=SIMPLE_JSON)
        rows = []
        for f in files:
            requires = (
                f' data-requires-python="{html.escape(f.requires_python)}"'
                if f.requires_python
                else ""
            )
            rows.append(
                f'    <a href="{_file_url(project, f)}#sha256={f.sha256}"{requires}>'
                f"{html.escape(f.filename)}</a><br/>"
            )
        page = (
            '<!DOCTYPE html>\n<html>\n  <head>\n    <meta name="pypi:repository-version" '
            f'content="1.1">\n    <title>Links for {html.escape(project.name)}</title>\n'
            f"  </head>\n  <body>\n    <h1>Links for {html.escape(project.name)}</h1>\n"
            + "\n".join(rows)
            + "\n  </body>\n</html>\n"
        )
        return HTMLResponse(page)

    @route("GET", "/project/{name}/")
    @route("GET", "/project/{name}/{version}/")
    async def project_page(self, request: Request) -> Response:
        """A project's (or one release's) files as an HTML list; 404 when there are none."""
        project = self.state.project(request.path_params["name"])
        version = request.path_params.get("version")
        files = sorted(
            (f for f in (project.files if project else []) if version in (None, f.version)),
            key=lambda f: f.filename,
        )
        if project is None or not files:
            return Response("Not Found", status_code=404, media_type="text/plain")
        title = html.escape(project.name + (f" {version}" if version else ""))
        rows = "\n".join(
            f'    <li><a href="{_file_url(project, f)}">{html.escape(f.filename)}</a></li>'
            for f in files
        )
        page = (
            f"<!DOCTYPE html>\n<html>\n  <head><title>{title}</title></head>\n  <body>\n"
            f"    <h1>{title}</h1>\n    <ul>\n{rows}\n    </ul>\n  </body>\n</html>\n"
        )
        return HTMLResponse(page)

    @route("GET", "/pypi/{name}/json")
    async def json_project(self, request: Request) -> Response:
        project = self.state.project(request.path_params["name"])
        if project is None:
            return JSONResponse({"message": "Not Found"}, status_code=404)
        releases: dict[str, list[dict[str, object]]] = {}
        for f in project.files:
            releases.setdefault(f.version, []).append(
                {
                    "filename": f.filename,
                    "url": str(request.base_url).rstrip("/") + _file_url(project, f),
                    "digests": {"sha256": f.sha256, "blake2b_256": f.blake2_256},
                    "packagetype": f.filetype,
                    "requires_python": f.requires_python,
                    "size": f.size,
                    "has_attestations": f.attestations,
                }
            )
        latest = max(releases, key=Version) if releases else None
        body = {
            "info": {"name": project.name, "version": latest},
            "releases": releases,
            "urls": releases.get(latest, []) if latest else [],
        }
        return JSONResponse(body)

    @route("GET", "/files/{project}/{filename}")
    async def file(self, request: Request) -> Response:
        project = self.state.project(request.path_params["project"])
        filename: str = request.path_params["filename"]
        if project is None or not any(f.filename == filename for f in project.files):
            return Response("Not Found", status_code=404, media_type="text/plain")
        return FileResponse(self.state.file_path(project.name, filename), filename=filename)

    @route("GET", "/integrity/{project}/{version}/{filename}/provenance")
    async def provenance(self, request: Request) -> Response:
        """``/integrity/<project>/<version>/<file>/provenance`` (Warehouse ``api/integrity.py``)."""
        project = self.state.project(request.path_params["project"])
        filename: str = request.path_params["filename"]
        found = [
            f
            for f in (project.files if project else [])
            if f.filename == filename and f.version == request.path_params["version"]
        ]
        if project is None or not found:
            return JSONResponse({"message": "Not Found"}, status_code=404)
        media_type = _integrity_type(request.headers.get("accept", ""))
        if media_type is None:
            return JSONResponse({"message": "Request not acceptable"}, status_code=406)
        path = provenance_path(self.state.file_path(project.name, filename))
        if not found[0].attestations or not path.exists():
            return JSONResponse(
                {"message": f"No provenance available for {filename}"}, status_code=404
            )
        return Response(path.read_bytes(), media_type=media_type)


__all__ = ["SIMPLE_JSON", "IndexEndpoints"]
