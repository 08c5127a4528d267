import pytest

from models_app.paths import PathError, normalize_path


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
    ],
)
def test_bad_paths_are_refused_with_a_reason(path, message):
    with pytest.raises(PathError) as excinfo:
        normalize_path(path)
    assert message in str(excinfo.value)
