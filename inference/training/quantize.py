"""int8 variant of an exported model: `model_int8.onnx` next to `model.onnx`.

onnxruntime's dynamic quantization (`quantize_dynamic`, signed int8 weights, per output
channel, MatMul only with constant weights; activations quantized at run time), after giving
the LM head its own copy of the embedding: model.onnx computes the tied head as
Gemm(transB=1) on the embedding table (stored once), and quantizing through a shared table
breaks the graph (docs: /work/shared/ENVIRONMENT.md). The embedding lookup stays fp32.
Needs the onnxruntime Python package (the local wheel mirror has it); Debian's packages do not.
"""
from __future__ import annotations

import os
import tempfile

import onnx
from onnx import helper, numpy_helper


def available() -> bool:
    try:
        import onnxruntime.quantization  # noqa: F401
    except ImportError:
        return False
    return True


def untie_lm_head(m: onnx.ModelProto) -> onnx.ModelProto:
    inits = {i.name: i for i in m.graph.initializer}
    for idx, node in enumerate(m.graph.node):
        if node.op_type != "Gemm" or node.input[1] not in inits:
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if attrs.get("transB") != 1 or len(node.input) > 2:
            continue
        w = numpy_helper.to_array(inits[node.input[1]])
        head = numpy_helper.from_array(w.T.copy(), name="lm_head.weight_t")
        m.graph.initializer.append(head)
        mm = helper.make_node("MatMul", [node.input[0], head.name], list(node.output), name="/lm_head/MatMul")
        m.graph.node.remove(node)
        m.graph.node.insert(idx, mm)
        return m
    raise RuntimeError("tied LM head Gemm not found")


def quantize(model_dir: str) -> str:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    src = os.path.join(model_dir, "model.onnx")
    dst = os.path.join(model_dir, "model_int8.onnx")
    m = untie_lm_head(onnx.load(src))
    with tempfile.TemporaryDirectory() as tmp:
        untied = os.path.join(tmp, "untied.onnx")
        onnx.save(m, untied)
        quantize_dynamic(untied, dst, weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"], extra_options={"MatMulConstBOnly": True})
    q = onnx.load(dst)
    q.producer_name = "flywheel-training"
    q.doc_string = "int8 weights (onnxruntime quantize_dynamic, QInt8, per channel, MatMul) of model.onnx"
    onnx.checker.check_model(q)
    onnx.save(q, dst)
    return dst
