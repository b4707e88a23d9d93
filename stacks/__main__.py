"""The Pulumi program of every stage (`pulumi up --stack production`).

The stack's name is the stage. Reading the stack config, loading and resolving the specs
it lists, and wiring the components is `envparity.components.program.main`, the same
code `envparity plan` runs offline under Pulumi's mock runtime.
"""

from pathlib import Path

from envparity.components.program import main

main(root=Path(__file__).resolve().parent.parent)  # the project directory, where Pulumi.yaml is
