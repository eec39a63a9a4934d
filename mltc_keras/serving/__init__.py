"""Prediction: `Predictor` (raw text -> probabilities and label sets, `mltc_keras.load`) and the
HTTP server (`create_app`, the `mltc-keras serve` command). Importing this package is light: the
Keras and FastAPI stacks load only when a model or an app is made."""


def create_app(models, **settings):
    """A FastAPI app serving `models` (see `mltc_keras.serving.app.create_app`), for mounting in
    your own service or running with uvicorn."""
    from mltc_keras.serving.app import create_app as _create_app

    return _create_app(models, **settings)


def __getattr__(name):
    if name in ("Predictor", "load"):
        from mltc_keras.serving import predictor

        return getattr(predictor, name)
    raise AttributeError(f"module 'mltc_keras.serving' has no attribute {name!r}")
