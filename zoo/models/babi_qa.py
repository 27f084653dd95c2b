"""What the bAbI question-answering models share (``MemN2N``, ``KeyValueMemoryNetwork``, ``BiLSTMReader``):
the vocabulary in their config, the training and test steps over ``zoo.data.babi`` batches, the per-task
evaluation of the paper's tables, the answer softmax, and the ``answer(story, question)`` function that runs
eagerly, in ``model.answer`` and in the exported ``answer`` signature.

Batches are ``(stories (B, M, L), questions (B, Lq), answers (B,), tasks (B,))`` int32 (``zoo.data.babi``);
``call((stories, questions))`` gives answer logits (B, V) over the whole vocabulary (the paper's softmax).
The training loss is the cross-entropy summed over the batch (``loss_reduction="sum"``, the official MemN2N
code's, which its learning rates and the gradient clipping at norm 40 assume) or its mean; the reported
``loss`` metric is always the mean per question.
"""
import keras
import numpy as np
import tensorflow as tf

from zoo.data.babi import MEMORY_SIZE, BabiVocabulary, TASK_NAMES, normalize, story_arrays
from zoo.export.endpoint import Endpoint
from zoo.models.seeding import step_seed
from zoo.models.token_model import TokenModel
from zoo.objectives.replicas import per_replica_loss

FAILED_ERROR = 5.0  # a task is failed when its test error is above 5% (Weston et al. 2015; Sukhbaatar et al. 2015)


class BabiQAModel(TokenModel):
    """Mixin of the bAbI models. The class sets ``vocab_size``, ``memory_size``, ``loss_reduction``, ``seed`` and
    calls ``_init_vocabulary`` (``TokenModel``'s, with a ``BabiVocabulary``); it implements
    ``answer_logits(stories, questions, training) -> (logits (B, V), attention (B, hops, M) or None)``."""

    has_attention = True
    vocabulary_class = BabiVocabulary

    def _init_training(self, loss_reduction, seed):
        if loss_reduction not in ("sum", "mean"):
            raise ValueError(f"loss_reduction must be 'sum' or 'mean', got {loss_reduction!r}")
        self.loss_reduction, self.seed = loss_reduction, seed
        self.seed_generator = keras.random.SeedGenerator(seed, name="noise")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(name="accuracy")

    # === Training ===
    def call(self, inputs, training=False):
        stories, questions = inputs[0], inputs[1]
        return self.answer_logits(stories, questions, training=training)[0]

    def question_losses(self, answers, logits):
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=answers, logits=logits)

    def train_step(self, data):
        stories, questions, answers = data[0], data[1], data[2]
        with tf.GradientTape() as tape:
            logits, _ = self.answer_logits(stories, questions, training=True, seed=step_seed(self))
            losses = self.question_losses(answers, logits)
            loss = tf.reduce_sum(losses) if self.loss_reduction == "sum" else tf.reduce_mean(losses)
            scaled = per_replica_loss(loss)
        gradients = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        return self._update_metrics(answers, losses, logits)

    def test_step(self, data):
        stories, questions, answers = data[0], data[1], data[2]
        logits, _ = self.answer_logits(stories, questions)
        return self._update_metrics(answers, self.question_losses(answers, logits), logits)

    def _update_metrics(self, answers, losses, logits):
        self.loss_tracker.update_state(tf.reduce_mean(losses))
        self.accuracy_tracker.update_state(answers, logits)
        return {"loss": self.loss_tracker.result(), "accuracy": self.accuracy_tracker.result()}

    @property
    def metrics(self):
        return [self.loss_tracker, self.accuracy_tracker]

    # === Evaluation ===
    @tf.function(reduce_retracing=True)
    def _predict_batch(self, stories, questions):
        logits, attention = self.answer_logits(stories, questions)
        return tf.argmax(logits, axis=-1, output_type=tf.int32), attention if attention is not None else logits[:, :0]

    def predict_answers(self, stories, questions, batch_size=1000):
        """Arg-max answer ids (N,) of numpy stories (N, M, L) and questions (N, Lq)."""
        out = [self._predict_batch(tf.constant(stories[i:i + batch_size]), tf.constant(questions[i:i + batch_size]))[0]
               for i in range(0, len(stories), batch_size)]
        return np.concatenate([o.numpy() for o in out]) if out else np.zeros([0], np.int32)

    def measure(self, split, batch_size=1000):
        """The paper's table of one split ``(stories, questions, answers, tasks)``: test error in % of every task,
        their mean, the number of failed tasks (error > 5%), and the accuracy over all questions."""
        stories, questions, answers, tasks = split
        wrong = self.predict_answers(stories, questions, batch_size) != answers
        per_task = {int(t): float(100.0 * wrong[tasks == t].mean()) for t in sorted(set(tasks.tolist()))}
        return {"mean_error": float(np.mean(list(per_task.values()))),
                "failed_tasks": int(sum(e > FAILED_ERROR for e in per_task.values())),
                "accuracy": float(1.0 - wrong.mean()), "questions": int(len(answers)),
                "per_task_error": {str(t): round(e, 2) for t, e in per_task.items()}}

    # === Answering (the same graph code runs eagerly, in ``answer`` and in the serving signature) ===
    def export_resources(self):
        return [self.lookup_table()]

    def answer_graph(self, story, question):
        """story (S,) strings (the statements, oldest first), question () string -> {"answer" () string,
        "probability" () float32, "attention" (hops, S) float32 (each hop's weight on every statement; 0 on
        statements older than the ``memory_size`` most recent, which are not in memory), "unknown_words" ()
        int32 (words of story and question missing from the vocabulary: they are dropped, as padding)}.

        Core TF ops only. A story with no statement (a question before any fact) or a question with no word fails
        with InvalidArgument naming the input."""
        vocabulary, table = self._require_vocabulary(), self.lookup_table()
        story = tf.convert_to_tensor(story, tf.string)
        question = tf.convert_to_tensor(question, tf.string)
        checks = [
            tf.debugging.Assert(tf.size(story) > 0, ["input 'story' must hold at least one statement (a question "
                                                     "needs facts before it)"]),
            tf.debugging.Assert(tf.size(BabiVocabulary.graph_words(question[None]).flat_values) > 0,
                                ["input 'question' must hold at least one word"]),
        ]
        with tf.control_dependencies(checks):
            sentences = tf.identity(story)[-self.memory_size:][::-1]            # most recent first, <= M
        ids = vocabulary.graph_tokenize(sentences, table)                       # ragged (S', None)
        q_ids = vocabulary.graph_tokenize(question[None], table)                # ragged (1, None)
        words = (tf.size(BabiVocabulary.graph_words(sentences).flat_values)
                 + tf.size(BabiVocabulary.graph_words(question[None]).flat_values))
        known = tf.reduce_sum(tf.cast(tf.not_equal(ids.flat_values, 0), tf.int32)) + \
            tf.reduce_sum(tf.cast(tf.not_equal(q_ids.flat_values, 0), tf.int32))
        stories = tf.ragged.boolean_mask(ids, tf.not_equal(ids, 0)).to_tensor(0)  # unknown words dropped
        stories = tf.pad(stories, [[0, self.memory_size - tf.shape(stories)[0]], [0, 0]])[None]  # (1, M, L)
        questions = tf.ragged.boolean_mask(q_ids, tf.not_equal(q_ids, 0)).to_tensor(0)
        questions = tf.pad(questions, [[0, 0], [0, tf.maximum(1 - tf.shape(questions)[1], 0)]])  # (1, >= 1)
        logits, attention = self.answer_logits(stories, questions)
        probs = tf.nn.softmax(logits[0])
        best = tf.argmax(probs, output_type=tf.int32)
        result = {"answer": tf.gather(tf.constant(vocabulary.tokens), best), "probability": tf.gather(probs, best),
                  "unknown_words": words - known}
        if attention is not None:
            kept = tf.shape(sentences)[0]
            over_kept = attention[0, :, :kept][:, ::-1]                          # (hops, S') oldest first
            older = tf.shape(story)[0] - kept
            result["attention"] = tf.concat([tf.zeros([tf.shape(over_kept)[0], older]), over_kept], axis=1)
        return result

    def answer(self, story, question):
        """Python side: story (a list of statements, oldest first), question -> {"answer" str, "probability"
        float, "attention" (hops, S) numpy (MemN2N, KV-MemNN), "unknown_words" int}. ``ValueError`` for an
        empty story or a question without words; unknown words are dropped and counted."""
        if isinstance(story, str) or not all(isinstance(s, str) for s in story):
            raise ValueError(f"story must be a list of statements (strings), got {type(story).__name__}")
        if not story:
            raise ValueError("story must hold at least one statement (a question needs facts before it)")
        if not normalize(question):
            raise ValueError(f"question {question!r} has no words")
        out = {k: v.numpy() for k, v in self.answer_graph(tf.constant(story), tf.constant(question)).items()}
        out["answer"] = out["answer"].decode("utf-8")
        out["probability"], out["unknown_words"] = float(out["probability"]), int(out["unknown_words"])
        return out

    def story_inputs(self, story, question):
        """(stories (1, M, L), questions (1, Lq)) numpy of one story, as the loader makes them."""
        return story_arrays(story, question, self._require_vocabulary(), self.memory_size)

    def export_endpoints(self):
        example = {"story": np.array(["Mary moved to the bathroom.", "John went to the hallway."]),
                   "question": np.array("Where is Mary?")}
        doc = ("the answer to a question about a story (statements oldest first), its probability"
               + (", each hop's attention over the statements" if self.has_attention else "")
               + " and the count of unknown (dropped) words")
        endpoint = Endpoint(self.answer_graph, [tf.TensorSpec([None], tf.string, name="story"),
                                                tf.TensorSpec([], tf.string, name="question")], example, doc)
        return {"serving_default": endpoint, "answer": endpoint}


def base_config(model):
    return {"vocab_size": model.vocab_size, "memory_size": model.memory_size, "vocabulary": model.vocabulary_config(),
            "loss_reduction": model.loss_reduction, "seed": model.seed}


def task_table(per_task_error):
    """Rows "task name: error" of a per-task error dict (keys "1".."20")."""
    return [(int(t), TASK_NAMES[int(t)], e) for t, e in sorted(per_task_error.items(), key=lambda kv: int(kv[0]))]


__all__ = ["BabiQAModel", "MEMORY_SIZE", "FAILED_ERROR", "base_config", "task_table"]
