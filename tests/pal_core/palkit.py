"""Engine test helpers shared by several test modules: three toy examples and a tiny random BERT classifier.

Imported as `from palkit import ...` (pytest puts this folder on sys.path, as for tests/db/dbkit.py).
"""

from pathlib import Path

import torch

from pal_core.data.loaders import Example

# Three dialogues: a single gold sentence, two gold sentences (multi-label) with a 3-turn history, and no persona use.
TOY_EXAMPLES = [
    Example(
        id="d1:0",
        persona=("i like tea .", "i am a teacher ."),
        history=("do you like tea ?",),
        response="yes i like tea .",
        persona_label=(0,),
        dialogue_id="d1",
    ),
    Example(
        id="d2:0",
        persona=("i read books .", "i like dogs .", "i am a nurse ."),
        history=("hi", "hello", "what do you do ?"),
        response="i am a nurse .",
        persona_label=(2, 0),
        dialogue_id="d2",
        turn=1,
    ),
    Example(
        id="d3:0",
        persona=("i like music .",),
        history=("hello",),
        response="hi .",
        persona_label=(-1,),
        dialogue_id="d3",
    ),
]

# The keys of one outputs.jsonl row (one generated response), as `run_system` and `pal evaluate` write them.
OUTPUT_ROW_KEYS = {"id", "dialogue_id", "turn", "persona", "history", "reference", "response", "gold_label",
                   "selected_index", "selected_sentence", "scores", "contradiction", "time_s"}  # fmt: skip

# Every word the engine tests feed the tiny BERT; anything else maps to [UNK].
BERT_WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", "?", ",", "i", "have", "a", "dog", "cat", "like",
              "hate", "tea", "am", "nurse", "teacher", "play", "guitar", "do", "not", "two", "dogs", "cats", "love",
              "music", "books", "read", "you", "hi", "hello", "what", "bees"]  # fmt: skip


def build_tiny_classifier(path: Path) -> Path:
    """Random 2-layer BERT (hidden 16) + word-level tokenizer that builds [CLS] a [SEP] b [SEP] pairs (< 1 s).

    Saved as a 3-class sequence classifier; its encoder also loads as a plain `BertModel` (embedding tests).
    """
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    core = Tokenizer(models.WordLevel({w: i for i, w in enumerate(BERT_WORDS)}, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    cls, sep = BERT_WORDS.index("[CLS]"), BERT_WORDS.index("[SEP]")
    core.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    PreTrainedTokenizerFast(
        tokenizer_object=core,
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    ).save_pretrained(path)
    config = BertConfig(vocab_size=len(BERT_WORDS), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=64, num_labels=3,
                        initializer_range=0.5)  # large init: outputs differ clearly between inputs  # fmt: skip
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(path)
    return path


# Four one-turn examples over one persona for the training tests (select + generate rows: 8 in the mixture).
TRAIN_EXAMPLES = [
    Example(id=f"d:{i}", persona=["i like tea .", "i have two dogs ."], history=["hello how are you ?"],
            response=reply, persona_label=label)
    for i, (reply, label) in enumerate(
        [("i love tea !", (0,)), ("my dogs like music .", (1,)), ("yes i do .", (-1,)),
         ("i have two dogs and cats .", (1,))]
    )
]  # fmt: skip
# Trainer flags for tests: 2 tiny steps, no checkpoints, a high lr so 2 steps move the random weights.
FAST_TRAIN_FLAGS = ["--max_steps", "2", "--per_device_train_batch_size", "2", "--learning_rate", "0.01",
                    "--save_strategy", "no", "--disable_tqdm", "true"]  # fmt: skip
