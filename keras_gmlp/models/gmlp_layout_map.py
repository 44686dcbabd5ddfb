import keras


def gmlp_layout_map(
    device_mesh, model_parallel_dim_name="model", data_parallel_dim_name="batch"
):
    """A `keras.distribution.LayoutMap` for the weights of a gMLP backbone.

    Shared by `GMLPBackbone.get_layout_map` and
    `GMLPTextBackbone.get_layout_map`. It follows keras-hub's convention
    (Gemma, Llama): the channel projections are sharded along the
    intermediate dimension over the model axis, Megatron style, and along
    the hidden dimension over the data axis, so that the data-parallel
    replicas also split the weights (FSDP style):

    - `block_*/proj_in/kernel`, `(hidden, intermediate)`: `(batch, model)`;
      its bias `(model,)`.
    - `block_*/proj_out/kernel`, `(intermediate / 2, hidden)`:
      `(model, batch)`.
    - `tiny_attention/output_dense/kernel`, `(attention, intermediate / 2)`:
      `(None, model)`; its bias `(model,)`.
    - `token_embedding/embeddings`, `(vocabulary, hidden)`: `(None, model)`.
    - `patch_embedding/projection/kernel`, `(patch, patch, channels,
      hidden)`: `(None, None, None, model)`; its bias `(model,)`.

    Everything else is replicated:

    - The spatial weights `W` and `b` of the gating units: `W v` mixes
      tokens within each channel, so a device that holds a slice of `v`'s
      channels needs all of `W`. `W` is small next to the projections
      (`n^2` against `1.5 * hidden * intermediate` weights: 10% of a block
      in `gmlp_base_en`, 7% in `gmlp_large_en`, 2% in gMLP-B), so
      replicating it costs little memory and no communication.
    - The tiny attention's query-key-value projection: a single head of 64
      or 128 channels, too small to be worth splitting.
    - The LayerNorms and `proj_out`'s bias, as in keras-hub's models.

    The embeddings are sharded along the hidden dimension, not along the
    vocabulary as in Gemma, because vocabularies such as the presets' 3181
    tokens rarely divide by the number of devices.

    The sharded dimensions must divide by the mesh axis they go on:
    `intermediate_dim / 2`, `hidden_dim` and the attention's output by the
    model axis, `hidden_dim` by the data axis.

    Args:
        device_mesh: a `keras.distribution.DeviceMesh`.
        model_parallel_dim_name: str. The mesh axis the weights are split
            over.
        data_parallel_dim_name: str. The mesh axis the batch is split over.

    Returns:
        A `keras.distribution.LayoutMap`, for
        `keras.distribution.ModelParallel(layout_map=...)`.

    Example:
    ```python
    import keras
    from keras_gmlp.models.gmlp_layout_map import gmlp_layout_map

    # Device names only: a layout map touches no device until it is used.
    mesh = keras.distribution.DeviceMesh(
        (2, 4), ("batch", "model"), [f"gpu:{i}" for i in range(8)]
    )
    layout_map = gmlp_layout_map(mesh)
    layout_map["block_0/proj_in/kernel"].axes  # ("batch", "model")
    ```
    """
    if not isinstance(device_mesh, keras.distribution.DeviceMesh):
        raise ValueError(
            "get_layout_map expects a `keras.distribution.DeviceMesh`. "
            f"Received: device_mesh={device_mesh!r} of type "
            f"{type(device_mesh).__name__}"
        )
    for argument, name in (
        ("model_parallel_dim_name", model_parallel_dim_name),
        ("data_parallel_dim_name", data_parallel_dim_name),
    ):
        if name not in device_mesh.axis_names:
            raise ValueError(
                f"`{argument}` must be an axis of the device mesh, one of "
                f"{list(device_mesh.axis_names)}. Received: {argument}={name!r}"
            )
    model, data = model_parallel_dim_name, data_parallel_dim_name
    layout_map = keras.distribution.LayoutMap(device_mesh)
    # Keys are regular expressions that must match a whole variable path;
    # `.*` lets a backbone sit inside another model's name scope.
    layout_map[r".*block_\d+/proj_in/kernel"] = (data, model)
    layout_map[r".*block_\d+/proj_in/bias"] = (model,)
    layout_map[r".*block_\d+/proj_out/kernel"] = (model, data)
    layout_map[r".*tiny_attention/output_dense/kernel"] = (None, model)
    layout_map[r".*tiny_attention/output_dense/bias"] = (model,)
    layout_map[r".*token_embedding/embeddings"] = (None, model)
    layout_map[r".*patch_embedding/projection/kernel"] = (None, None, None, model)
    layout_map[r".*patch_embedding/projection/bias"] = (model,)
    return layout_map
