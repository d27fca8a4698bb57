"""Code facts from Python source: name resolution, classification of calls, paths, and bad input."""

from __future__ import annotations

import pickle
import textwrap
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_audit.analyzers.code import CallRef, CodeFacts, extract_cells_facts, extract_code_facts


def facts(source: str) -> CodeFacts:
    return extract_code_facts(textwrap.dedent(source))


def call_names(code: CodeFacts) -> list[str]:
    return [call.name for call in code.calls]


def test_import_alias_resolves_calls():
    code = facts(
        """
        import mlflow as mf
        import numpy as np
        import os.path
        from sklearn.model_selection import train_test_split as tts

        mf.register_model("runs:/abc/model", "churn")
        np.random.seed(0)
        os.path.join("a", "b")
        tts(X, y)
        """
    )
    assert call_names(code) == [
        "mlflow.register_model",
        "numpy.random.seed",
        "os.path.join",
        "sklearn.model_selection.train_test_split",
    ]
    assert [(i.module, i.alias, i.line) for i in code.imports] == [
        ("mlflow", "mf", 2),
        ("numpy", "np", 3),
        ("os.path", "os", 4),
        ("sklearn.model_selection.train_test_split", "tts", 5),
    ]
    register = code.calls[0]
    assert register.line == 7 and register.cell is None
    assert register.args == ("'runs:/abc/model'", "'churn'")
    assert register.snippet == 'mf.register_model("runs:/abc/model", "churn")'


def test_relative_and_star_imports_are_kept_as_written():
    code = facts(
        """
        from . import utils
        from ..pipelines.train import run as run_training
        from kfp.dsl import *

        utils.load()
        run_training()
        """
    )
    assert [(i.module, i.alias) for i in code.imports] == [
        (".utils", "utils"),
        ("..pipelines.train.run", "run_training"),
        ("kfp.dsl", "*"),
    ]
    assert call_names(code) == [".utils.load", "..pipelines.train.run"]


def test_aliased_decorator_resolves_and_keeps_keywords():
    code = facts(
        """
        from prefect import flow as f, task

        @task(retries=3)
        def load():
            ...

        @f(name="training", log_prints=True)
        def training():
            load()
        """
    )
    assert [(d.name, d.target, d.line, d.keywords) for d in code.decorators] == [
        ("prefect.task", "load", 4, ("retries",)),
        ("prefect.flow", "training", 8, ("name", "log_prints")),
    ]
    assert code.functions == ("load", "training")


def test_same_decorator_name_from_different_frameworks():
    airflow = facts(
        """
        from airflow.decorators import dag, task

        @task
        def extract():
            return 1
        """
    )
    prefect = facts(
        """
        from prefect import task

        @task
        def extract():
            return 1
        """
    )
    assert [d.name for d in airflow.decorators] == ["airflow.decorators.task"]
    assert [d.name for d in prefect.decorators] == ["prefect.task"]


def test_rebound_name_resolves_through_the_nearest_import_above():
    code = facts(
        """
        from airflow.decorators import task

        @task
        def a(): ...

        from prefect import task

        @task
        def b(): ...
        """
    )
    assert [(d.name, d.target) for d in code.decorators] == [("airflow.decorators.task", "a"),
                                                              ("prefect.task", "b")]


def test_a_rebound_name_in_calls_resolves_at_each_use_and_others_stay_fixed():
    code = facts(
        """
        import numpy as np
        import joblib
        np.save("a.npy", x)
        joblib.dump(model, "a.pkl")
        import cupy as np
        np.save("b.npy", x)
        joblib.dump(model, "b.pkl")
        """
    )
    assert [c.name for c in code.calls] == ["numpy.save", "joblib.dump", "cupy.save", "joblib.dump"]


def test_kfp_pipeline_and_component_decorators():
    code = facts(
        """
        from kfp import dsl

        @dsl.component(base_image="python:3.11", packages_to_install=["pandas"])
        def preprocess(path: str) -> str:
            return path

        @dsl.pipeline(name="train-pipeline")
        def pipeline():
            preprocess(path="gs://bucket/data.csv")
        """
    )
    assert [(d.name, d.keywords) for d in code.decorators] == [
        ("kfp.dsl.component", ("base_image", "packages_to_install")),
        ("kfp.dsl.pipeline", ("name",)),
    ]


def test_metaflow_flowspec_base_and_steps():
    code = facts(
        """
        from metaflow import FlowSpec, step, schedule
        import metaflow as mf

        @schedule(daily=True)
        class TrainFlow(FlowSpec):
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass

        class Other(mf.FlowSpec, Generic[T]):
            pass

        if __name__ == "__main__":
            TrainFlow()
        """
    )
    assert [(c.name, c.bases, c.line) for c in code.classes] == [
        ("TrainFlow", ("metaflow.FlowSpec",), 6),
        ("Other", ("metaflow.FlowSpec", "Generic"), 15),
    ]
    assert [(d.name, d.target) for d in code.decorators] == [
        ("metaflow.schedule", "TrainFlow"),
        ("metaflow.step", "start"),
        ("metaflow.step", "end"),
    ]
    assert code.has_main_guard


def test_keyword_literals_are_recorded_as_repr():
    code = facts(
        """
        import torch
        from sklearn.model_selection import KFold, train_test_split

        state = torch.load("model.pt", weights_only=True, map_location=device)
        train_test_split(X, y, test_size=0.2, random_state=42, stratify=y)
        KFold(n_splits=5, shuffle=True, random_state=-1)
        """
    )
    load, split, kfold = code.calls
    assert load.keywords == ("weights_only", "map_location")
    assert load.literals == (("weights_only", "True"),)
    assert split.literals == (("test_size", "0.2"), ("random_state", "42"))
    assert kfold.name == "sklearn.model_selection.KFold"
    assert dict(kfold.literals) == {"n_splits": "5", "shuffle": "True", "random_state": "-1"}


def test_seed_calls():
    code = facts(
        """
        import random
        import numpy as np
        import torch
        import tensorflow as tf
        import lightning as L
        from transformers import set_seed
        from .utils import seed_everything

        random.seed(1)
        np.random.seed(1)
        rng = np.random.default_rng(7)
        unseeded = np.random.default_rng()
        torch.manual_seed(1)
        torch.cuda.manual_seed_all(1)
        tf.random.set_seed(1)
        tf.keras.utils.set_random_seed(1)
        L.seed_everything(1, workers=True)
        set_seed(1)
        seed_everything(1)
        np.random.rand(3)
        """
    )
    assert [call.name for call in code.seed_calls] == [
        "random.seed",
        "numpy.random.seed",
        "numpy.random.default_rng",
        "torch.manual_seed",
        "torch.cuda.manual_seed_all",
        "tensorflow.random.set_seed",
        "tensorflow.keras.utils.set_random_seed",
        "lightning.seed_everything",
        "transformers.set_seed",
        ".utils.seed_everything",
    ]
    assert code.seed_calls[2].line == 12


def test_fit_calls():
    code = facts(
        """
        import xgboost as xgb
        import lightgbm as lgb
        from transformers import Trainer

        scaled = scaler.fit_transform(X)
        clf.fit(X, y)
        model.partial_fit(X, y)
        booster = xgb.train(params, dtrain, num_boost_round=10)
        gbm = lgb.train(params, train_set)
        trainer.fit(model, datamodule=dm)
        Trainer(model=model, args=args).train()
        for batch in loader:
            model.train()
            loss.backward()
            optimizer.step()
        dataset.train(split=0.8)
        net.eval()
        """
    )
    assert [(call.name, call.line) for call in code.fit_calls] == [
        ("clf.fit", 7),
        ("model.partial_fit", 8),
        ("xgboost.train", 9),
        ("lightgbm.train", 10),
        ("trainer.fit", 11),
        ("transformers.Trainer().train", 12),
        ("optimizer.step", 16),
    ]


def test_persist_calls():
    code = facts(
        """
        import pickle, joblib, torch, cloudpickle
        import numpy as np
        import mlflow.sklearn
        from skops.io import dump

        pickle.dump(model, f)
        joblib.dump(clf, "model.joblib")
        torch.save(net.state_dict(), "net.pt")
        cloudpickle.dump(model, f)
        dump(model, "model.skops")
        mlflow.sklearn.save_model(model, "out")
        booster.save_model("model.json")
        model.save("model.keras")
        np.save("features.npy", X)
        fig.save("plot.png")
        pickle.dumps(model)
        """
    )
    assert [call.name for call in code.persist_calls] == [
        "pickle.dump",
        "joblib.dump",
        "torch.save",
        "cloudpickle.dump",
        "skops.io.dump",
        "mlflow.sklearn.save_model",
        "booster.save_model",
        "model.save",
    ]


def test_absolute_paths_machine_specific_only():
    code = facts(
        r'''
        TRAIN = "/Users/ana/projects/churn/train.csv"
        HOME = "/home/bob/data/raw.parquet"
        WIN = "C:\\Users\\ana\\data.csv"
        WIN_FORWARD = "D:/datasets/images"
        DRIVE = "/content/drive/MyDrive/data.csv"
        KAGGLE = "/kaggle/input/titanic/train.csv"
        WSL = "/mnt/c/Users/ana/data.csv"
        DBFS = "/dbfs/mnt/raw/data.csv"
        OUT = f"/home/bob/runs/{run_id}/model.pkl"
        SAGEMAKER = "/opt/ml/model"
        APP = "/app/model.joblib"
        TMP = "/tmp/cache"
        SYSTEM = ["/dev/null", "/etc/hosts", "/usr/local/bin"]
        URL = "https://example.com/home/bob/data.csv"
        RELATIVE = "data/home/x.csv"
        PATTERN = r"/home/[^/]+/"
        '''
    )
    assert [(ref.value, ref.line) for ref in code.absolute_paths] == [
        ("/Users/ana/projects/churn/train.csv", 2),
        ("/home/bob/data/raw.parquet", 3),
        ("C:\\Users\\ana\\data.csv", 4),
        ("D:/datasets/images", 5),
        ("/content/drive/MyDrive/data.csv", 6),
        ("/kaggle/input/titanic/train.csv", 7),
        ("/mnt/c/Users/ana/data.csv", 8),
        ("/dbfs/mnt/raw/data.csv", 9),
        ("/home/bob/runs/", 10),
    ]


def test_chained_and_subscripted_calls_keep_their_shape():
    code = facts(
        """
        import pandas as pd
        df = pd.read_csv("x.csv").dropna()
        models["rf"].fit(X, y)
        ", ".join(names)
        """
    )
    assert call_names(code) == ["pandas.read_csv().dropna", "pandas.read_csv", "models[].fit", "str.join"]


def test_multiline_and_unicode_snippets():
    code = facts(
        """
        mlflow.log_params({
            "learning_rate": 0.1,   # étape
            "depth": 6,
        })
        print("données", x)
        """
    )
    assert code.calls[0].snippet == 'mlflow.log_params({ "learning_rate": 0.1, # étape "depth": 6, })'
    assert code.calls[1].snippet == 'print("données", x)'


def test_loc_counts_code_lines_only():
    code = facts(
        """
        # a comment

        import os  # trailing comment
        x = 1
        """
    )
    assert code.loc == 2


def test_syntax_error_gives_empty_facts_and_a_message():
    code = facts(
        """
        import mlflow
        def broken(:
            pass
        """
    )
    assert code.syntax_error is not None and code.syntax_error.startswith("line 3:")
    assert code.imports == () and code.calls == ()
    assert code.loc == 3


def test_python2_print_statement_is_a_syntax_error():
    code = extract_code_facts('import os\nprint "hello"\n')
    assert code.syntax_error is not None
    assert code.syntax_error.startswith("line 2:")


def test_binary_like_and_hostile_input_never_raise():
    assert extract_code_facts("x = 1\0\x01\x02").syntax_error is not None
    assert extract_code_facts("\ufffd\ufffdPNG\r\n\x1a").syntax_error is not None
    assert extract_code_facts("(" * 500 + ")" * 500).syntax_error is not None
    assert extract_code_facts("-" * 200_000 + "1").syntax_error is not None
    assert extract_code_facts("x = " + "9" * 5000).syntax_error is not None


def test_byte_order_mark_and_crlf_are_accepted():
    code = extract_code_facts("\ufeffimport torch\r\ntorch.manual_seed(0)\r\n")
    assert code.syntax_error is None
    assert [(call.name, call.line) for call in code.seed_calls] == [("torch.manual_seed", 2)]


def test_cells_resolve_through_imports_of_earlier_cells():
    code = extract_cells_facts([(2, "import numpy as np"), (5, "x = 1\nnp.random.seed(3)")])
    assert code.syntax_error is None
    assert [(call.name, call.cell, call.line) for call in code.seed_calls] == [("numpy.random.seed", 5, 2)]
    assert code.imports[0].cell == 2


def test_a_broken_cell_does_not_lose_the_other_cells():
    code = extract_cells_facts(
        [(1, "import joblib"), (2, "def f(:\n    pass"), (3, "joblib.dump(model, 'm.pkl')")]
    )
    assert code.syntax_error == "cell 2, line 1: invalid syntax"
    assert [(call.name, call.cell, call.line) for call in code.persist_calls] == [("joblib.dump", 3, 1)]


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_arbitrary_text_never_raises(text: str):
    code = extract_code_facts(text)
    assert code.loc >= 0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 50), st.text(max_size=80)), max_size=5))
def test_arbitrary_cells_never_raise(cells: list[tuple[int, str]]):
    extract_cells_facts(cells)


def test_a_source_too_long_to_parse_safely_is_said_so_not_parsed() -> None:
    code = extract_code_facts("import sklearn\n" + "x = 1\n" * 150_000)
    assert code.syntax_error is not None and "too large to analyse" in code.syntax_error
    assert code.loc == 150_001 and not code.imports
    assert extract_code_facts("s = '" + "a" * 3_000_000 + "'\n").syntax_error is None  # long, but one line


def test_code_facts_come_back_whole_from_another_process() -> None:
    """As the parsing processes send them: every field, each call a CallRef again."""
    sources = sorted(Path(__file__).parents[2].glob("fixtures/**/*.py"))
    assert len(sources) > 20
    for source in sources:
        code = extract_code_facts(source.read_text(encoding="utf-8"))
        back = pickle.loads(pickle.dumps(code, protocol=pickle.HIGHEST_PROTOCOL))
        assert back == code
        assert all(type(call) is CallRef for call in back.calls)
