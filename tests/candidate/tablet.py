"""A scripted tablet over Flask's test client: every request the browser's page would make."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


@dataclass
class Tablet:
    """Drives the candidate's pages and keeps every body the server sent to the tablet."""

    client: FlaskClient
    bodies: list[str] = field(default_factory=list)
    csrf: str = ""

    def _keep(self, response: TestResponse) -> TestResponse:
        if response.mimetype in ("text/html", "application/json"):
            body = response.get_data(as_text=True)
            self.bodies.append(body)
            if match := _CSRF.search(body):
                self.csrf = match.group(1)
        return response

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        return self._keep(self.client.get(url, **kwargs))

    def post_json(self, url: str, payload: dict[str, Any]) -> TestResponse:
        return self._keep(
            self.client.post(
                url, json=payload, headers={"X-CSRF-Token": self.csrf, "Accept": "application/json"}
            )
        )

    def post_form(self, url: str, data: dict[str, Any], **kwargs: Any) -> TestResponse:
        return self._keep(self.client.post(url, data={"csrf_token": self.csrf, **data}, **kwargs))

    def post_audio(
        self, url: str, data: bytes, name: str = "reponse.webm", **fields: str
    ) -> TestResponse:
        from io import BytesIO

        return self._keep(
            self.client.post(
                url,
                data={**fields, "audio": (BytesIO(data), name)},
                headers={"X-CSRF-Token": self.csrf, "Accept": "application/json"},
                content_type="multipart/form-data",
            )
        )

    # ------------------------------------------------------------------ steps

    def open(self, code: str) -> TestResponse:
        self.get("/t/")
        return self.post_form("/t/", {"code": code})

    def state(self) -> dict[str, Any]:
        response = self.get("/t/etat")
        assert response.status_code == 200, response.get_data(as_text=True)
        state: dict[str, Any] = response.get_json()
        return state

    def through_checks(self, speech: bytes) -> None:
        """Welcome, consent, sound check, microphone check: up to the practice item."""
        self.get("/t/test")
        for stage in ("consent", "sound_check", "mic_check"):
            response = self.post_form("/t/etape", {"stage": stage})
            assert response.status_code == 303, response.get_data(as_text=True)
            self.get("/t/test")
        response = self.post_audio("/t/micro", speech, "micro.wav")
        assert response.status_code == 200, response.get_data(as_text=True)
        response = self.post_form("/t/etape", {"stage": "practice"})
        assert response.status_code == 303
        page = self.get("/t/test")
        assert "ENTRAINEMENT" in page.get_data(as_text=True)

    def practice(self) -> None:
        response = self.post_json(
            "/t/reponse", {"item_id": "ENTRAINEMENT", "answer": {"choice": "maison"}}
        )
        assert response.status_code == 200, response.get_data(as_text=True)

    def answer_current(self, speech: bytes) -> TestResponse | None:
        """Answer whatever item is on screen the way a candidate would; None at the end."""
        self.get("/t/test")
        state = self.state()
        if state["stage"] != "test":
            return None
        item = state["item"]
        mode = item["response_mode"]
        if mode == "speech":
            return self.post_audio("/t/enregistrement", speech, "reponse.wav", item_id=item["id"])
        answer: dict[str, Any]
        if mode == "choice":
            answer = {"choice": item["choices"][0]["id"]}
        elif mode == "text":
            answer = {"text": "vendredi"}
        elif mode == "long_text":
            answer = {"text": "Bonjour, je suis malade, je ne viens pas."}
        else:
            answer = {"fields": {f["id"]: "Diallo" for f in item["form"]}}
        return self.post_json("/t/reponse", {"item_id": item["id"], "answer": answer})
