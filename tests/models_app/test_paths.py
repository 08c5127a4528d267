import pytest

from models_app.models import Revision
from models_app.repos.initial import INITIAL_MESSAGE
from models_app.repos.paths import PathError, normalize_path
from models_app.repos.rules import repo_create
from tests.models_app.test_api_publish import upload
from tests.models_app.test_hf_commits import add, commit, preupload


@pytest.mark.parametrize("path", ["config.json", "tokenizer/vocab.txt", "a/b/c/d.bin", "ünïcode/file.txt"])
def test_relative_paths_with_folders_are_accepted(path):
    assert normalize_path(path) == path


def test_unicode_is_normalised_to_nfc():
    decomposed = "cafe\u0301.txt"
    assert normalize_path(decomposed) == "caf\u00e9.txt"


@pytest.mark.parametrize(
    "path, message",
    [
        ("/etc/passwd", "absolute paths"),
        ("../secret", "'..'"),
        ("a/../../b", "'..'"),
        ("dir\\file", "backslashes"),
        ("nul\x00byte", "control characters"),
        ("tab\there", "control characters"),
        (".git/config", "'.git'"),
        ("sub/.GIT/hooks", "'.git'"),
        ("a//b", "empty"),
        ("x" * 256, "255 bytes"),
        ("", "empty"),
        ("lone\ud800surrogate.txt", "surrogates"),  # JSON can carry one; it has no UTF-8 form
    ],
)
def test_bad_paths_are_refused_with_a_reason(path, message):
    with pytest.raises(PathError) as excinfo:
        normalize_path(path)
    assert message in str(excinfo.value)


# Names that display as another name, or as nothing: each is refused with the rule it breaks.
SPOOFING = [
    (" ", "whitespace"),
    ("weights/ /model.bin", "whitespace"),
    ("model.bin ", "whitespace"),
    (" model.bin", "whitespace"),
    ("\u3000/a.txt", "whitespace"),  # an ideographic space
    ("evil\u202egnp.exe", "bidi controls"),
    ("a\u202a.txt", "bidi controls"),
    ("a\u2066b\u2069.txt", "bidi controls"),
    ("a\u200e.txt", "bidi controls"),
    ("a\u200f.txt", "bidi controls"),
    ("\ufeffconfig.json", "BOM"),
    ("con\u200bfig.json", "zero-width"),
    ("a\u0085.txt", "control characters"),  # C1 NEL
    ("a\u2028b.txt", "line separators"),
]


def only_the_initial_commit() -> bool:
    return list(Revision.objects.values_list("message", flat=True)) == [INITIAL_MESSAGE]


@pytest.mark.parametrize("path, rule", SPOOFING)
def test_spoofing_names_are_refused_with_the_rule(path, rule):
    with pytest.raises(PathError) as excinfo:
        normalize_path(path)
    assert rule in str(excinfo.value)


def test_inner_spaces_are_still_fine():
    assert normalize_path("my model/weights v2.bin") == "my model/weights v2.bin"


@pytest.mark.parametrize("path, rule", SPOOFING[:3] + SPOOFING[5:6] + SPOOFING[10:11])
def test_hf_commit_refuses_spoofing_names(owner, write_client, path, rule):
    repo_create(owner, "m")
    response = commit(write_client, "alice/m", add(path, b"x"))
    # 422, as the Hugging Face hub answers a bad path in a commit (models_app/hf/commits.py)
    assert response.status_code == 422 and rule in response.json()["error"]
    assert only_the_initial_commit()


@pytest.mark.parametrize("path, rule", SPOOFING[:3] + SPOOFING[5:6] + SPOOFING[10:11])
def test_hf_preupload_refuses_spoofing_names(owner, write_client, path, rule):
    repo_create(owner, "m")
    response = preupload(write_client, "alice/m", [(path, b"x", 1)])
    assert response.status_code == 422 and rule in response.json()["error"]  # as the HF hub answers a bad path


@pytest.mark.parametrize("path, rule", SPOOFING[:3] + SPOOFING[5:6] + SPOOFING[10:11])
def test_native_upload_refuses_spoofing_names(owner, write_client, settings, path, rule):
    repo_create(owner, "m")
    response = upload(write_client, "alice/m", {"ok.txt": b"fine", path: b"evil"})
    assert response.status_code == 400 and rule in response.json()["error"]
    assert only_the_initial_commit()
    assert list(settings.UPLOAD_TMP_DIR.iterdir()) == []
