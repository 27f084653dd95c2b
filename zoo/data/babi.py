"""The bAbI question-answering tasks (Weston et al. 2015, "Towards AI-Complete Question Answering"), v1.2,
English: ``<data root>/babi/tasks_1-20_v1-2/{en,en-10k}/qa<N>_<name>_{train,test}.txt``.

File format: one line per statement, ``ID text``, IDs counting from 1 within a story and restarting at 1
where a new story begins; a question line is ``ID question<TAB>answer<TAB>supporting fact IDs``. A question
sees every statement of its story before it (questions are not statements: they never enter the memory).

What the loader returns (``load_babi``), as in Sukhbaatar et al. (2015, "End-To-End Memory Networks"):

* memory: the 50 most recent statements before each question (``memory_size``), **most recent first**: slot 0
  holds the statement just before the question, slot 1 the one before it, ... (so a temporal encoding row
  ``T[i]`` means "i statements ago"); empty slots are all-zero rows after the real ones;
* words: lower-cased, "." "?" "!" dropped, split at whitespace (``normalize``); the serving graphs redo this
  with core TF ops (``BabiVocabulary.graph_tokenize``);
* the vocabulary: id 0 is ``<nil>`` (padding and unknown words, whose embedding is never used), then the
  sorted words and answers of the training files of the tasks loaded; it travels in the model's config;
* answers: the answer field is one class. Tasks 8 (lists/sets) and 19 (path finding) have multi-word answers
  written with commas ("apple,football", "n,w"); each such combination is its own answer word (one class of
  the paper's single softmax over the vocabulary: the answer field, commas included, is one token), so
  "apple,football" and "football,apple" are different answers, exactly as the data writes them;
* splits: "train" and "valid" are a 90/10 split of each task's training questions (a fixed random 10% per
  task, seed 0: the paper's 10% held out for model selection), "test" the test file.

Each split is a tuple of arrays ``(stories int32 (N, M, L), questions int32 (N, Lq), answers int32 (N,),
tasks int32 (N,))`` (L, Lq: the longest sentence and question of the files loaded). Malformed lines raise
``ValueError`` (``DataFileError``) naming the file and line.

The 10k set here lacks qa3's training file (see ``SOURCE.md``); ``load_babi(..., size="10k")`` then reads
task 3's 1k training file instead, and says so in the returned ``notes``.
"""
import dataclasses
import re
import numpy as np
import tensorflow as tf

from zoo.data.files import data_root
from zoo.data.reading import line_error, text_lines

FOLDER = "babi/tasks_1-20_v1-2"
SIZES = {"1k": "en", "10k": "en-10k"}
TASK_NAMES = {1: "single-supporting-fact", 2: "two-supporting-facts", 3: "three-supporting-facts",
              4: "two-arg-relations", 5: "three-arg-relations", 6: "yes-no-questions", 7: "counting",
              8: "lists-sets", 9: "simple-negation", 10: "indefinite-knowledge", 11: "basic-coreference",
              12: "conjunction", 13: "compound-coreference", 14: "time-reasoning", 15: "basic-deduction",
              16: "basic-induction", 17: "positional-reasoning", 18: "size-reasoning", 19: "path-finding",
              20: "agents-motivations"}
ALL_TASKS = tuple(range(1, 21))
NIL = "<nil>"
MEMORY_SIZE = 50
VALID_FRACTION = 0.1
_DROP = re.compile(r"[.?!]")


def normalize(text):
    """A statement or question -> its words: lower case, "." "?" "!" removed, split at whitespace."""
    return _DROP.sub(" ", text.lower()).split()


@dataclasses.dataclass
class Example:
    """One question with its story: ``story`` every statement before it (lists of words, oldest first),
    ``supporting`` indices into ``story`` of the supporting facts; ``line`` where the question is."""

    story: list
    question: list
    answer: str
    supporting: tuple
    task: int
    path: str
    line: int


def task_file(task, split, size="1k", data_dir=None):
    if task not in TASK_NAMES:
        raise ValueError(f"bAbI task must be 1..20, got {task!r}")
    if size not in SIZES:
        raise ValueError(f"bAbI size must be one of {sorted(SIZES)}, got {size!r}")
    return data_root(data_dir) / FOLDER / SIZES[size] / f"qa{task}_{TASK_NAMES[task]}_{split}.txt"


def parse_file(path, task=0):
    """Every question of a bAbI file as an ``Example``; ``ValueError`` naming ``path:line`` on a malformed line:
    no leading ID, an ID that neither restarts at 1 nor follows the previous one, a question line without
    exactly the three tab-separated fields, an empty answer, or supporting-fact IDs that are not statements
    earlier in the story (a question before any statement is one of these)."""
    examples, story, line_of_id, previous = [], [], {}, 0
    for number, raw in text_lines(path, "bAbI file"):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        head, _, rest = line.partition(" ")
        if not head.isdigit() or not rest.strip():
            raise line_error(path, number, "expected 'ID text' with a numeric ID", line)
        ident = int(head)
        if ident == 1:
            story, line_of_id = [], {}
        elif ident != previous + 1:
            raise line_error(path, number, f"ID {ident} follows ID {previous} (IDs count from 1 within a story)",
                             line)
        previous = ident
        if "\t" not in rest:
            story.append(normalize(rest))
            if not story[-1]:
                raise line_error(path, number, "a statement without words", line)
            line_of_id[ident] = len(story) - 1
            continue
        fields = rest.split("\t")
        if len(fields) != 3:
            raise line_error(path, number, f"a question line has 3 tab-separated fields (question, answer, "
                             f"supporting IDs), found {len(fields)}", line)
        question, answer, supports = fields[0], fields[1].strip(), fields[2].split()
        if not normalize(question) or not answer or " " in answer:
            raise line_error(path, number, "a question needs words and a one-field answer", line)
        if not supports or not all(s.isdigit() and int(s) in line_of_id for s in supports):
            raise line_error(path, number, f"supporting facts {fields[2]!r} must be IDs of statements earlier "
                             f"in the story (known: {sorted(line_of_id) or 'none'})", line)
        examples.append(Example(list(story), normalize(question), answer.lower(),
                                tuple(line_of_id[int(s)] for s in supports), task, str(path), number))
    return examples


class BabiVocabulary:
    """Words and answers <-> ids; id 0 is ``<nil>`` (padding, and every unknown word)."""

    def __init__(self, tokens):
        tokens = [str(t) for t in tokens]
        if not tokens or tokens[0] != NIL or len(set(tokens)) != len(tokens):
            raise ValueError(f"a bAbI vocabulary starts with {NIL!r} and repeats no token, got {tokens[:3]}...")
        self.tokens = tokens
        self.ids = {t: i for i, t in enumerate(tokens)}

    def __len__(self):
        return len(self.tokens)

    @classmethod
    def from_examples(cls, examples):
        words = set()
        for ex in examples:
            words.update(w for sentence in ex.story for w in sentence)
            words.update(ex.question)
            words.add(ex.answer)
        words.discard(NIL)
        return cls([NIL] + sorted(words))

    def encode(self, words):
        """Python side: words -> int32 ids (unknown -> 0)."""
        return np.array([self.ids.get(w, 0) for w in words], np.int32)

    def get_config(self):
        return {"tokens": self.tokens}

    # === Graph side (core TF ops only: serving signatures) ===
    def lookup_table(self):
        keys = tf.constant(self.tokens[1:])
        values = tf.range(1, len(self.tokens), dtype=tf.int64)
        return tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(keys, values), default_value=0)

    @staticmethod
    def graph_words(text):
        """Strings (B,) -> ragged words (B, None): ``normalize`` with core ops."""
        return tf.strings.split(tf.strings.regex_replace(tf.strings.lower(text), "[.?!]", " "))

    def graph_tokenize(self, text, table):
        """Strings (B,) -> ragged int32 ids (B, None); unknown words -> 0."""
        words = self.graph_words(text)
        return tf.ragged.map_flat_values(lambda w: tf.cast(table.lookup(w), tf.int32), words)


def vectorize(examples, vocabulary, memory_size=MEMORY_SIZE, sentence_size=None, question_size=None):
    """Examples -> (stories (N, M, L), questions (N, Lq), answers (N,), tasks (N,)) int32; memory slot 0 is the
    most recent statement. L and Lq default to the longest in ``examples``."""
    sentence_size = sentence_size or max([len(s) for ex in examples for s in ex.story[-memory_size:]] + [1])
    question_size = question_size or max([len(ex.question) for ex in examples] + [1])
    n = len(examples)
    stories = np.zeros((n, memory_size, sentence_size), np.int32)
    questions = np.zeros((n, question_size), np.int32)
    for i, ex in enumerate(examples):
        for slot, sentence in enumerate(reversed(ex.story[-memory_size:])):
            ids = vocabulary.encode(sentence)[:sentence_size]
            stories[i, slot, :len(ids)] = ids
        ids = vocabulary.encode(ex.question)[:question_size]
        questions[i, :len(ids)] = ids
    answers = np.array([vocabulary.ids.get(ex.answer, 0) for ex in examples], np.int32)
    tasks = np.array([ex.task for ex in examples], np.int32)
    return stories, questions, answers, tasks


def _tasks(tasks):
    if tasks in (None, "all"):
        return ALL_TASKS
    tasks = (tasks,) if isinstance(tasks, int) else tuple(int(t) for t in tasks)
    bad = [t for t in tasks if t not in TASK_NAMES]
    if bad or not tasks:
        raise ValueError(f"bAbI tasks must be 1..20, got {tasks!r}")
    return tasks


def read_examples(tasks="all", size="1k", data_dir=None, limit=None):
    """{"train", "test": [Example]} of the tasks (training files missing from the 10k set fall back to 1k) and
    notes on any such fallback; ``limit`` keeps each file's first questions (toy runs)."""
    examples, notes = {"train": [], "test": []}, []
    for task in _tasks(tasks):
        for split in ("train", "test"):
            path = task_file(task, split, size, data_dir)
            if not path.exists() and size == "10k" and split == "train":
                notes.append(f"{path.name} is missing from the 10k set: task {task} trains on its 1k file")
                path = task_file(task, split, "1k", data_dir)
            examples[split].extend(parse_file(path, task)[:limit])
    return examples, notes


def split_valid(examples, fraction=VALID_FRACTION, seed=0):
    """(train, valid): a fixed random ``fraction`` of each task's questions held out."""
    rng = np.random.RandomState(seed)
    train, valid = [], []
    for task in sorted({ex.task for ex in examples}):
        of_task = [ex for ex in examples if ex.task == task]
        held = set(rng.permutation(len(of_task))[: max(1, int(round(fraction * len(of_task))))].tolist())
        for i, ex in enumerate(of_task):
            (valid if i in held else train).append(ex)
    return train, valid


def load_babi(tasks="all", size="1k", data_dir=None, memory_size=MEMORY_SIZE, limit=None, vocabulary=None,
              seed=0):
    """{"train", "valid", "test": (stories, questions, answers, tasks), "vocabulary": BabiVocabulary,
    "memory_size", "notes"} for ``tasks`` ("all" = joint over the 20, an int, or a list) of the 1k or 10k set.
    ``vocabulary``: a model's own (its config dict or object) instead of the training files'."""
    examples, notes = read_examples(tasks, size, data_dir, limit)
    if vocabulary is None:
        vocabulary = BabiVocabulary.from_examples(examples["train"])
    elif not isinstance(vocabulary, BabiVocabulary):
        vocabulary = BabiVocabulary(**vocabulary)
    train, valid = split_valid(examples["train"], seed=seed)
    every = examples["train"] + examples["test"]
    sizes = {"sentence_size": max(len(s) for ex in every for s in ex.story[-memory_size:] or [[0]]),
             "question_size": max(len(ex.question) for ex in every)}
    return {"train": vectorize(train, vocabulary, memory_size, **sizes),
            "valid": vectorize(valid, vocabulary, memory_size, **sizes),
            "test": vectorize(examples["test"], vocabulary, memory_size, **sizes),
            "vocabulary": vocabulary, "memory_size": memory_size, "notes": notes}


def loader(size):
    """``load_babi`` for one size ("1k" or "10k"): the ``zoo.data.DATASETS`` entries "babi_1k", "babi_10k"."""
    def load(tasks="all", **kwargs):
        return load_babi(tasks, size=size, **kwargs)
    return load


def source_files(size):
    """The files function of a ``DATASETS`` entry: every task file of that size present in the data folder (the
    training run reads them all with ``tasks="all"``; a missing 10k training file is replaced by the 1k one)."""
    def files(data_dir=None):
        found = []
        for task in ALL_TASKS:
            for split in ("train", "test"):
                path = task_file(task, split, size, data_dir)
                if not path.exists() and size == "10k" and split == "train":
                    path = task_file(task, split, "1k", data_dir)
                if path.exists():
                    found.append(path)
        return found
    return files


def read_story_file(path):
    """A story for ``zoo answer``: one statement per non-blank line, an optional leading bAbI ID dropped. A line
    holding a tab (a bAbI question line) raises ``ValueError`` naming the line: pass the question separately."""
    sentences = []
    for number, raw in text_lines(path, "story file"):
        line = raw.strip()
        if not line:
            continue
        if "\t" in line:
            raise line_error(path, number, "a question line in a story file; pass the question with --question",
                             line)
        head, _, rest = line.partition(" ")
        sentences.append(rest if head.isdigit() and rest else line)
    return sentences


def story_arrays(sentences, question, vocabulary, memory_size=MEMORY_SIZE):
    """Python-side twin of the serving graph: sentences (oldest first) and a question -> (stories (1, M, L),
    questions (1, Lq)) int32, memory slot 0 the most recent sentence."""
    ex = Example([normalize(s) for s in sentences], normalize(question), "", (), 0, "<story>", 0)
    stories, questions, _, _ = vectorize([ex], vocabulary, memory_size)
    return stories, questions


def files_present(size="1k", data_dir=None):
    return (data_root(data_dir) / FOLDER / SIZES[size]).is_dir()


__all__ = ["load_babi", "parse_file", "BabiVocabulary", "normalize", "vectorize", "read_story_file"]
