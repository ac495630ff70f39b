"""kgan.run_folder.history: history.csv read and written whole, and cut back to the epochs a
checkpoint holds when a run resumes."""

from kgan.run_folder.history import read_history, truncate_history, write_history


def test_truncation_keeps_the_checkpoints_epochs_and_drops_damaged_rows(tmp_path):
    path = tmp_path / "history.csv"
    assert read_history(path) == []
    write_history(path, ["epoch", "g_loss", "val_fid"],
                  [{"epoch": 0, "g_loss": 2.0}, {"epoch": 1, "g_loss": 1.5, "val_fid": 90}])
    with open(path, "a") as f:
        f.write("2,1.0,NA\ngarbage,,\n")  # a row after the checkpoint, and a damaged one
    truncate_history(path, epochs_done=2)
    assert read_history(path) == [["epoch", "g_loss", "val_fid"], ["0", "2.0", "NA"],
                                  ["1", "1.5", "90"]]
    truncate_history(tmp_path / "missing.csv", 1)  # nothing to cut: nothing written
    assert not (tmp_path / "missing.csv").exists()
