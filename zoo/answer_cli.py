"""``zoo answer NAME --story FILE --question "Where is John?"``: a bAbI model answers a question about a story.

The story file holds one statement per line, oldest first (bAbI's leading line numbers are allowed; a bAbI
question line, with tabs, is refused: the question comes from ``--question``). Prints the answer, its
probability and, for the memory networks, each hop's attention over the statements (the statements that
supported the answer); ``--json`` prints the same as one JSON object.
"""
import json


def add_answer_parser(sub):
    p = sub.add_parser("answer", help="answer a question about a story with a bAbI model (memory networks)")
    p.add_argument("name", help="a bAbI model, e.g. memn2n-babi-1k")
    p.add_argument("--story", required=True, help="text file: one statement per line, oldest first")
    p.add_argument("--question", required=True)
    p.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    p.set_defaults(fn=cmd_answer)
    return p


def format_answer(story, question, out):
    lines = [f"question: {question}", f"answer:   {out['answer']}  (p = {out['probability']:.3f})"]
    if out.get("unknown_words"):
        lines.append(f"({out['unknown_words']} unknown word(s) ignored)")
    attention = out.get("attention")
    if attention is not None:
        hops = attention.shape[0]
        lines.append("  " + " ".join(f"hop {k + 1:<2}" for k in range(hops)) + "  statement")
        for i, sentence in enumerate(story):
            lines.append("  " + " ".join(f"{attention[k, i]:6.3f}" for k in range(hops)) + f"  {i + 1} {sentence}")
    return "\n".join(lines)


def cmd_answer(args):
    import zoo
    from zoo.data.babi import read_story_file

    story = read_story_file(args.story)
    model = zoo.load(args.name, compile=False)
    if not hasattr(model, "answer"):
        raise ValueError(f"{args.name} is a {type(model).__name__}, not a question-answering model")
    out = model.answer(story, args.question)
    if args.json:
        print(json.dumps({**out, "attention": out["attention"].round(4).tolist()} if "attention" in out else out))
    else:
        print(format_answer(story, args.question, out))
