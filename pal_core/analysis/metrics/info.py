"""The `evaluate.MetricInfo` that every metric module here returns: its texts plus the input columns it takes."""

import datasets
import evaluate

TEXT = datasets.Value("string")
INDEX = datasets.Value("int32")
INDEX_LIST = datasets.List(datasets.Value("int32"))


def metric_info(
    description: str,
    citation: str,
    inputs_description: str,
    *,
    predictions: datasets.Value | datasets.List,
    references: datasets.Value | datasets.List | None = None,
    urls: tuple[str, ...] = (),
) -> evaluate.MetricInfo:
    """MetricInfo with a `predictions` column and, for metrics scored against gold, a `references` column."""
    columns = {"predictions": predictions}
    if references is not None:
        columns["references"] = references
    return evaluate.MetricInfo(
        description=description,
        citation=citation,
        inputs_description=inputs_description,
        features=datasets.Features(columns),
        reference_urls=list(urls),
    )
