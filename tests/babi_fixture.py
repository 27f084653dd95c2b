"""Tiny bAbI files in the standard format (tasks 1 and 8, for the 1k and 10k folders), for the loader tests and the
recipes' toy runs."""
import numpy as np

PEOPLE = ["Mary", "John", "Sandra", "Daniel"]
PLACES = ["bathroom", "hallway", "kitchen", "garden", "office"]
OBJECTS = ["apple", "football", "milk"]


def task1_lines(stories, rng):
    lines = []
    for _ in range(stories):
        number, where = 0, {}
        for _ in range(2):
            for _ in range(2):
                number += 1
                person, place = rng.choice(PEOPLE), rng.choice(PLACES)
                where[person] = (place, number)
                lines.append(f"{number} {person} moved to the {place}.")
            number += 1
            person = rng.choice(sorted(where))
            lines.append(f"{number} Where is {person}? \t{where[person][0]}\t{where[person][1]}")
    return lines


def task8_lines(stories, rng):
    lines = []
    for _ in range(stories):
        person, objects = rng.choice(PEOPLE), rng.choice(OBJECTS, size=2, replace=False)
        lines += [f"1 {person} went to the {rng.choice(PLACES)}.", f"2 {person} picked up the {objects[0]}.",
                  f"3 {person} got the {objects[1]} there.",
                  f"4 What is {person} carrying?\t{objects[0]},{objects[1]}\t2 3"]
    return lines


def write_tiny_babi(root, stories=30, seed=3):
    """<root>/babi/tasks_1-20_v1-2/{en,en-10k}/qa{1,8}_*_{train,test}.txt; returns the en folder."""
    rng = np.random.RandomState(seed)
    for size in ("en", "en-10k"):
        folder = root / "babi" / "tasks_1-20_v1-2" / size
        folder.mkdir(parents=True, exist_ok=True)
        for split in ("train", "test"):
            (folder / f"qa1_single-supporting-fact_{split}.txt").write_text("\n".join(task1_lines(stories, rng)) + "\n")
            (folder / f"qa8_lists-sets_{split}.txt").write_text("\n".join(task8_lines(stories, rng)) + "\n")
    return root / "babi" / "tasks_1-20_v1-2" / "en"
