"""What the export and translate command lines share: readable TensorFlow error lines."""


def error_reason(error):
    """The readable line of a TensorFlow error: the failed check's message, else its first line."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    for line in lines:
        if "assertion failed:" in line:  # after "{{function_node ...}} " when called eagerly
            line = line.split("assertion failed:", 1)[1]
            return line.strip().replace("] [", " ").strip("[]")
    lines = [line for line in lines if line != "Graph execution error:"]
    return lines[0] if lines else type(error).__name__
