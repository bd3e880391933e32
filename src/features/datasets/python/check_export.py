"""Checks Flywheel dataset exports the way an ML engineer would use them.

usage: check_export.py <tokenizer.json> <format>=<folder> ...

For each folder: `datasets.load_dataset(folder)` must read the splits the card declares with the
format's TRL columns; then the matching TRL trainer takes one optimizer step on a tiny random
GPT-2 (prompt-completion → SFTTrainer, preference → DPOTrainer, unpaired-preference →
KTOTrainer; prompt-only is loaded only). Prints one JSON line per folder.
"""

import json
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore")

from datasets import load_dataset  # noqa: E402
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast  # noqa: E402

COLUMNS = {
    "prompt-completion": ["completion", "prompt"],
    "preference": ["chosen", "prompt", "rejected"],
    "unpaired-preference": ["completion", "label", "prompt"],
    "prompt-only": ["prompt"],
}


def tiny_model(tokenizer):
    config = GPT2Config(
        vocab_size=len(tokenizer), n_positions=256, n_embd=32, n_layer=1, n_head=2
    )
    return GPT2LMHeadModel(config)


def one_step(fmt, ds, tokenizer, out):
    import trl

    common = dict(
        output_dir=out,
        max_steps=1,
        per_device_train_batch_size=2,
        report_to=[],
        save_strategy="no",
        logging_steps=1,
        use_cpu=True,
        dataloader_num_workers=0,
    )
    train = ds["train"].select(range(min(8, len(ds["train"]))))
    if fmt == "prompt-completion":
        args = trl.SFTConfig(max_length=128, **common)
        trainer = trl.SFTTrainer(
            model=tiny_model(tokenizer), args=args, train_dataset=train, processing_class=tokenizer
        )
    elif fmt == "preference":
        args = trl.DPOConfig(max_length=128, **common)
        # A model made in memory has no hub name to load the reference from: pass it.
        trainer = trl.DPOTrainer(
            model=tiny_model(tokenizer),
            ref_model=tiny_model(tokenizer),
            args=args,
            train_dataset=train,
            processing_class=tokenizer,
        )
    elif fmt == "unpaired-preference":
        args = trl.KTOConfig(max_length=128, **common)
        trainer = trl.KTOTrainer(
            model=tiny_model(tokenizer),
            ref_model=tiny_model(tokenizer),
            args=args,
            train_dataset=train,
            processing_class=tokenizer,
        )
    else:
        return None
    result = trainer.train()
    return {"trainer": type(trainer).__name__, "steps": result.global_step, "loss": result.training_loss}


def main():
    tokenizer = PreTrainedTokenizerFast(tokenizer_file=sys.argv[1])
    if tokenizer.eos_token is None:
        tokenizer.add_special_tokens({"eos_token": "<|endoftext|>"})
    tokenizer.pad_token = tokenizer.eos_token
    failed = False
    for arg in sys.argv[2:]:
        fmt, folder = arg.split("=", 1)
        report = {"format": fmt}
        try:
            ds = load_dataset(folder)
            report["splits"] = {name: len(split) for name, split in ds.items()}
            for name, split in ds.items():
                if sorted(split.column_names) != COLUMNS[fmt]:
                    raise ValueError(f"{name} columns {split.column_names}, expected {COLUMNS[fmt]}")
            with tempfile.TemporaryDirectory() as out:
                report["step"] = one_step(fmt, ds, tokenizer, out)
            report["ok"] = True
        except Exception as error:  # report every folder, then fail
            report["ok"] = False
            report["error"] = f"{type(error).__name__}: {error}"
            failed = True
        print(json.dumps(report), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
